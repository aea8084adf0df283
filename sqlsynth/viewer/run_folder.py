"""Everything a run folder holds, read once: final rows, rejects, funnel, usage, run records.

A run folder (``--out``) is written by the pipelines and ``FileStorage``: ``<prefix>_step<k>``
files, ``<prefix>_manifest.json`` (steps, rows in/out, reject counts), ``<prefix>_rejects.jsonl``
(every dropped row with step and reason), ``final.jsonl``, ``llm_cache.sqlite`` and
``sqlsynth_runs.jsonl`` (one line per command that ran in the folder: command, database, models,
seed and the LLM usage it paid for; see :mod:`sqlsynth.pipelines.finish`). Missing pieces read as empty,
so a folder of an interrupted run, or one from before a file existed, still opens.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FINAL_FILE = "final.jsonl"
RUNS_FILE = "sqlsynth_runs.jsonl"
REVIEW_FILE = "review.jsonl"
REPORT_FILE = "report.html"


def row_key(row: dict[str, Any]) -> str:
    """A stable identity for a final row: its database, question and SQL.

    Marks survive a rerun that reproduces the same row, and never attach to a different one.
    """
    text = json.dumps([row.get("db_id"), row.get("question"), row.get("SQL")],
                      ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Object lines of a JSONL file; unreadable lines (a run killed mid-write) are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (json.JSONDecodeError, RecursionError):  # a line nested too deep is skipped
            continue
        if isinstance(value, dict):
            out.append(value)
    return out


@dataclass
class RunFolder:
    """The parts of one run folder the viewer, the card and the exporter need."""

    path: Path
    rows: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    prefix: str = "sqlsynth"
    rows_source: str = FINAL_FILE
    """The file the rows came from: ``final.jsonl``, else the last finished step's file."""

    @classmethod
    def load(cls, path: str | Path) -> RunFolder:
        folder = Path(path)
        if not folder.is_dir():
            raise FileNotFoundError(f"run folder not found: {folder}")
        manifest = next(iter(sorted(folder.glob("*_manifest.json"))), None)
        prefix = manifest.name[: -len("_manifest.json")] if manifest else "sqlsynth"
        steps: list[dict[str, Any]] = []
        if manifest is not None:
            try:
                data = json.loads(manifest.read_text(encoding="utf-8"))
                steps = [s for s in data.get("steps", []) if isinstance(s, dict)]
            except (json.JSONDecodeError, UnicodeDecodeError, AttributeError, RecursionError):
                steps = []
        source = folder / FINAL_FILE
        if not source.exists():
            source = _last_step_file(folder, prefix, steps)
        return cls(
            path=folder,
            rows=_read_jsonl(source),
            rejects=_read_jsonl(folder / f"{prefix}_rejects.jsonl"),
            steps=sorted(steps, key=lambda s: int(s.get("step", 0))),
            runs=_read_jsonl(folder / RUNS_FILE),
            prefix=prefix,
            rows_source=source.name,
        )

    # ------------------------------------------------------------------ derived views

    @property
    def last_run(self) -> dict[str, Any]:
        return self.runs[-1] if self.runs else {}

    def database(self) -> str | None:
        """The database the run used, as recorded (a URL's password is never recorded)."""
        db = self.last_run.get("db")
        return str(db) if db is not None else None

    def funnel(self) -> list[dict[str, Any]]:
        """Per step: name, rows in, rows out, rejects by reason, seconds, finished or not."""
        out = []
        for step in self.steps:
            out.append({
                "step": int(step.get("step", 0)),
                "name": str(step.get("operator", "")),
                "rows_in": step.get("rows_in"),
                "rows_out": step.get("rows_out"),
                "rejects": dict(step.get("rejects") or {}),
                "seconds": step.get("seconds"),
                "done": bool(step.get("done")),
            })
        return out

    def reject_groups(self) -> list[dict[str, Any]]:
        """Rejects grouped by (step, reason), most frequent first within a step."""
        groups: dict[tuple[int, str, str], list[dict[str, Any]]] = {}
        for rej in self.rejects:
            key = (int(rej.get("step", 0)), str(rej.get("step_name", "")),
                   str(rej.get("reason", "")))
            groups.setdefault(key, []).append(rej)
        ordered = sorted(groups.items(), key=lambda kv: (kv[0][0], -len(kv[1]), kv[0][2]))
        return [{"step": s, "step_name": n, "reason": r, "count": len(items), "items": items}
                for (s, n, r), items in ordered]

    def reject_reasons(self) -> Counter[str]:
        return Counter(str(r.get("reason", "")) for r in self.rejects)

    def usage(self) -> dict[str, dict[str, int]]:
        """LLM usage per model name, summed over every command run in this folder.

        Each run records only what it paid for (cache hits are counted, not re-billed), so
        the sum is what the folder cost.
        """
        total: dict[str, dict[str, int]] = {}
        for run in self.runs:
            for model, counts in (run.get("usage") or {}).items():
                into = total.setdefault(str(model), {})
                for key, value in (counts or {}).items():
                    if isinstance(value, (int, float)):
                        into[key] = into.get(key, 0) + int(value)
        return total

    def values(self, field_name: str) -> Counter[str]:
        """How often each value of a row field occurs among the final rows."""
        return Counter(str(r[field_name]) for r in self.rows if r.get(field_name) is not None)

    def quality_fields(self) -> list[str]:
        """Numeric or label fields beyond the reference's (scores a judge or a filter added)."""
        from sqlsynth.storage.final import FINAL_FIELDS

        known = set(FINAL_FIELDS) | {"id", "cot_responses"}
        names: dict[str, None] = {}
        for row in self.rows:
            for key, value in row.items():
                if key in known or key.startswith("_"):
                    continue
                if isinstance(value, (int, float, bool)) or (
                    isinstance(value, str) and len(value) <= 40
                ):
                    names[key] = None
        return list(names)


def _last_step_file(folder: Path, prefix: str, steps: list[dict[str, Any]]) -> Path:
    done = [s for s in steps if s.get("done") and s.get("file")]
    if done:
        return folder / str(max(done, key=lambda s: int(s.get("step", 0)))["file"])
    return folder / FINAL_FILE
