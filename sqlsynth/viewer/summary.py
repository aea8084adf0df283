"""The figures of a run, computed once for both the data card and the viewer's overview."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlsynth.viewer.pricing import cost_lines, total_usd
from sqlsynth.viewer.run_folder import RunFolder
from sqlsynth.viewer.sql_features import FEATURES, feature_coverage

DIFFICULTY_ORDER = ("easy", "medium", "hard", "extra")
DIFFICULTY_FIELDS = ("sql_component_difficulty", "sql_execution_difficulty")
LABEL_FIELDS = ("question_type", "sql_complexity_type", "sql_variation_type")


def ordered_difficulties(counts: Counter[str]) -> list[tuple[str, int]]:
    """easy, medium, hard, extra first (zeros kept, so charts compare), then any other label."""
    known = [(level, counts.get(level, 0)) for level in DIFFICULTY_ORDER]
    other = sorted((k, v) for k, v in counts.items() if k not in DIFFICULTY_ORDER)
    return known + other


def _quality(folder: RunFolder) -> dict[str, dict[str, Any]]:
    """Per quality field: mean/min/max for numbers, counts for labels."""
    out: dict[str, dict[str, Any]] = {}
    for name in folder.quality_fields():
        values = [r[name] for r in folder.rows if r.get(name) is not None]
        numbers = [float(v) for v in values
                   if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if numbers and len(numbers) == len(values):
            out[name] = {"kind": "number", "n": len(numbers), "mean": sum(numbers) / len(numbers),
                         "min": min(numbers), "max": max(numbers)}
        else:
            out[name] = {"kind": "label", "n": len(values),
                         "counts": Counter(str(v) for v in values).most_common(12)}
    return out


def sample_rows(rows: list[dict[str, Any]], n: int = 5) -> list[dict[str, Any]]:
    """``n`` rows spread evenly over the file (the same ones every time)."""
    if len(rows) <= n:
        return list(rows)
    step = len(rows) / n
    return [rows[int(i * step)] for i in range(n)]


def pass_rate_buckets(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Solver pass rates in tenths (``0.0`` ... ``1.0``) and the learnable band's size."""
    from sqlsynth.training.rl import pass_rate

    rates = [r for r in (pass_rate(row) for row in rows) if r is not None]
    tenths = Counter(f"{min(int(rate * 10 + 1e-9), 10) / 10:.1f}" for rate in rates)
    return {"measured": len(rates),
            "learnable": sum(1 for rate in rates if 0.1 <= rate <= 0.9),
            "buckets": [(f"{i / 10:.1f}", tenths.get(f"{i / 10:.1f}", 0)) for i in range(11)]}


def contamination_summary(folder: RunFolder) -> dict[str, Any]:
    """Rows checked against benchmarks (their ``contamination`` field) and what matched; the
    report ``sqlsynth decontaminate`` left in the folder, when there is one."""
    import json

    checked = [r for r in folder.rows if isinstance(r.get("contamination"), list)]
    by_benchmark: Counter[str] = Counter()
    by_kind: Counter[str] = Counter()
    flagged = 0
    for row in checked:
        matches = [m for m in row["contamination"] if isinstance(m, dict)]
        flagged += bool(matches)
        for match in matches:
            by_benchmark[str(match.get("benchmark"))] += 1
            by_kind.update(str(k) for k in match.get("kind") or [])
    report = None
    path = folder.path / "contamination.json"
    if path.is_file():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            loaded = None
        if isinstance(loaded, dict):
            report = {k: loaded.get(k) for k in ("mode", "rows", "flagged", "dropped",
                                                 "benchmarks", "options")}
    return {"checked": len(checked), "flagged": flagged,
            "by_benchmark": by_benchmark.most_common(), "by_kind": by_kind.most_common(),
            "report": report}


def training_summary(folder: RunFolder) -> dict[str, Any]:
    """What the RL, DPO and decontamination exports would find in the run's rows."""
    from sqlsynth.training.dpo import pair_counts

    return {"pass_rate": pass_rate_buckets(folder.rows), "preference": pair_counts(folder.rows),
            "contamination": contamination_summary(folder)}


def run_summary(folder: RunFolder, prices: dict[str, tuple[float, float]]) -> dict[str, Any]:
    rows = folder.rows
    dialect = str(folder.last_run.get("dialect") or "sqlite")
    costs = cost_lines(folder.usage(), prices)
    coverage = feature_coverage((str(r["SQL"]) for r in rows if r.get("SQL")), dialect)
    features = [(name, coverage.get(name, 0)) for name in FEATURES]
    if coverage.get("unparsed"):
        features.append(("unparsed", coverage["unparsed"]))
    return {
        "folder": str(folder.path),
        "rows_source": folder.rows_source,
        "counts": {
            "rows": len(rows),
            "rejects": len(folder.rejects),
            "databases": len({r.get("db_id") for r in rows if r.get("db_id") is not None}),
            "steps": len(folder.steps),
        },
        "funnel": folder.funnel(),
        "reject_reasons": folder.reject_reasons().most_common(),
        "reject_groups": [{k: g[k] for k in ("step", "step_name", "reason", "count")}
                          for g in folder.reject_groups()],
        "difficulty": {name: ordered_difficulties(folder.values(name))
                       for name in DIFFICULTY_FIELDS},
        # a label written as null with a reason (no endpoint: execution difficulty)
        "not_measured": {name: folder.values(f"{name}_reason").most_common(1)[0][0]
                         for name in DIFFICULTY_FIELDS if folder.values(f"{name}_reason")},
        "labels": {name: folder.values(name).most_common() for name in LABEL_FIELDS
                   if folder.values(name)},
        "per_database": folder.values("db_id").most_common(),
        "features": features,
        "dialect": dialect,
        "quality": _quality(folder),
        "training": training_summary(folder),
        "usage": [line.__dict__ for line in costs],
        "total_usd": total_usd(costs),
        "runs": folder.runs,
    }
