"""How a run folder's rows were made, for a dataset card: models, seed, databases, steps, labels."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from sqlsynth.viewer.review import ReviewMarks
from sqlsynth.viewer.run_folder import RunFolder
from sqlsynth.viewer.summary import DIFFICULTY_FIELDS, LABEL_FIELDS


def provenance_of(folder: str | Path, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """What the card says about the making of ``rows`` (the exported rows of ``folder``)."""
    run = RunFolder.load(folder)
    last = run.last_run
    labels: dict[str, dict[str, int]] = {}
    for name in (*DIFFICULTY_FIELDS, *LABEL_FIELDS):
        counts = Counter(str(r[name]) for r in rows if r.get(name) is not None)
        if counts:
            labels[name] = dict(counts.most_common())
    return {
        "pipeline": last.get("pipeline", ""),
        "model": last.get("model", ""),
        "embedding_model": last.get("embedding_model", ""),
        "seed": last.get("seed"),
        "databases": sorted({str(r["db_id"]) for r in rows if r.get("db_id") is not None}),
        "steps": [{"step": s["step"], "name": s["name"], "rows_in": s["rows_in"],
                   "rows_out": s["rows_out"]} for s in run.funnel()],
        "labels": labels,
        "rejected_in_run": len(run.rejects),
        "review": ReviewMarks(run.path).counts(),
    }
