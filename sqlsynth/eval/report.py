"""Evaluation results: per-example outcomes and per-hardness totals, as JSON or a rich table."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlsynth.sql.exact_match import PARTIAL_COMPONENTS
from sqlsynth.sql.hardness import HARDNESS_LEVELS

LEVELS = (*HARDNESS_LEVELS, "all")
UNKNOWN = "unknown"  # gold SQL that sqlglot cannot parse has no hardness


@dataclass
class ItemResult:
    """The outcome of one pair. ``exec_match``/``exact_match`` are None when not evaluated."""

    db_id: str
    gold_sql: str
    pred_sql: str | None
    hardness: str
    exec_match: bool | None = None
    exact_match: bool | None = None
    gold_status: str | None = None
    pred_status: str | None = None
    gold_error: str | None = None
    pred_error: str | None = None
    partial: dict[str, dict[str, float]] | None = None
    question: str | None = None
    id: str | None = None
    convention: str = "sqlsynth"
    difficulty: str | None = None
    pred_parsed: bool | None = None  # whether the official parser read the prediction
    soft_f1: float | None = None
    ves_reward: float | None = None
    candidates: int | None = None  # majority voting: how many candidates were voted on


@dataclass
class LevelStats:
    """Totals of one hardness level. Timeouts are predictions that hit the time limit; they
    are not also counted in ``pred_errors``."""

    count: int = 0
    exec_correct: int = 0
    exact_correct: int = 0
    gold_errors: int = 0
    pred_errors: int = 0
    timeouts: int = 0
    partial: dict[str, dict[str, float]] = field(default_factory=dict)
    soft_f1_sum: float = 0.0
    ves_sum: float = 0.0  # sum of sqrt(reward) x 100 (BIRD's R-VES numerator)
    unparsed: int = 0  # predictions the official parser cannot read

    @property
    def soft_f1(self) -> float:
        return self.soft_f1_sum / self.count if self.count else 0.0

    @property
    def ves(self) -> float:
        return self.ves_sum / self.count if self.count else 0.0

    @property
    def ex(self) -> float:
        return self.exec_correct / self.count if self.count else 0.0

    @property
    def em(self) -> float:
        return self.exact_correct / self.count if self.count else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ex": self.ex, "em": self.em, "soft_f1": self.soft_f1,
                "ves": self.ves}


@dataclass
class EvalReport:
    etype: str
    levels: dict[str, LevelStats]
    items: list[ItemResult]
    convention: str = "sqlsynth"
    follows: str = ""  # the official script (and version) the convention reproduces
    metrics: tuple[str, ...] = ()  # extra metrics reported (e.g. "soft_f1", "ves")

    def to_dict(self, *, with_items: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "convention": self.convention,
            "follows": self.follows,
            "etype": self.etype,
            "levels": {name: stats.to_dict() for name, stats in self.levels.items()},
        }
        if with_items:
            out["items"] = [asdict(item) for item in self.items]
        return out

    def to_json(self, *, with_items: bool = True, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(with_items=with_items), indent=indent,
                          ensure_ascii=False)


def summarise(items: list[ItemResult], etype: str, *, group_by: str = "hardness",
              levels_order: tuple[str, ...] = LEVELS, official_partial: bool = False
              ) -> EvalReport:
    """Per-level totals; partial scores averaged as Spider does (accuracy over examples where
    the prediction has the component, recall over those where the gold has it). Unlike Spider,
    F1 is 1 only when no example has the component, not whenever accuracy and recall are 0
    (``official_partial=True`` restores Spider's rule). ``group_by`` names the item field the
    levels come from (``hardness``, or ``difficulty`` for BIRD)."""
    levels = {name: LevelStats() for name in levels_order}
    sums: dict[str, dict[str, list[float]]] = {name: {} for name in (*levels_order, UNKNOWN)}
    for item in items:
        level = getattr(item, group_by) or UNKNOWN
        names = ["all", level]
        if level not in levels:
            levels[level] = LevelStats()
            sums.setdefault(level, {})
        for name in names:
            stats = levels[name]
            stats.count += 1
            stats.exec_correct += bool(item.exec_match)
            stats.exact_correct += bool(item.exact_match)
            stats.gold_errors += item.gold_error is not None
            stats.timeouts += item.pred_status == "timeout"
            stats.pred_errors += item.pred_error is not None and item.pred_status != "timeout"
            stats.unparsed += item.pred_parsed is False
            stats.soft_f1_sum += item.soft_f1 or 0.0
            if item.ves_reward is not None:
                stats.ves_sum += (item.ves_reward ** 0.5) * 100
            for comp, score in (item.partial or {}).items():
                acc = sums[name].setdefault(comp, [0.0, 0, 0.0, 0])
                if score["pred_total"] > 0:
                    acc[0] += score["acc"]
                    acc[1] += 1
                if score["label_total"] > 0:
                    acc[2] += score["rec"]
                    acc[3] += 1
    for name, stats in levels.items():
        for comp in PARTIAL_COMPONENTS:
            if comp not in sums[name]:
                continue
            acc_sum, acc_n, rec_sum, rec_n = sums[name][comp]
            acc = acc_sum / acc_n if acc_n else 0.0
            rec = rec_sum / rec_n if rec_n else 0.0
            if (acc == rec == 0) if official_partial else (acc_n == rec_n == 0):
                f1 = 1.0  # nobody used the component: nothing to get wrong
            else:
                f1 = 2 * acc * rec / (acc + rec) if acc + rec else 0.0
            stats.partial[comp] = {"acc": acc, "rec": rec, "f1": f1}
    if not levels.get(UNKNOWN, LevelStats()).count:
        levels.pop(UNKNOWN, None)
    if group_by != "hardness" and not levels.get(UNKNOWN, LevelStats()).count:
        levels = {k: v for k, v in levels.items() if v.count or k == "all"}
    return EvalReport(etype=etype, levels=levels, items=items)


def render_report(report: EvalReport, *, partial: bool = False):  # -> rich.table.Table
    """A rich table: one column per hardness level, rows for counts, EX, EM and errors."""
    from rich.table import Table

    names = list(report.levels)
    title = f"Text-to-SQL evaluation ({report.etype}"
    title += f", convention {report.convention})" if report.convention != "sqlsynth" else ")"
    table = Table(title=title)
    table.add_column("")
    for name in names:
        table.add_column(name, justify="right")
    stats = [report.levels[n] for n in names]
    table.add_row("count", *(str(s.count) for s in stats))
    if report.etype in ("all", "exec"):
        table.add_row("execution (EX)", *(f"{s.ex:.3f}" if s.count else "-" for s in stats))
        table.add_row("pred errors", *(str(s.pred_errors) for s in stats))
        table.add_row("pred timeouts", *(str(s.timeouts) for s in stats))
        table.add_row("gold errors", *(str(s.gold_errors) for s in stats))
        if "soft_f1" in report.metrics:
            table.add_row("Soft-F1", *(f"{s.soft_f1:.3f}" if s.count else "-" for s in stats))
        if "ves" in report.metrics:
            table.add_row("R-VES", *(f"{s.ves:.2f}" if s.count else "-" for s in stats))
    if report.etype in ("all", "match"):
        table.add_row("exact match (EM)", *(f"{s.em:.3f}" if s.count else "-" for s in stats))
        if "unparsed" in report.metrics:
            table.add_row("pred unreadable", *(str(s.unparsed) for s in stats))
        if partial:
            for comp in PARTIAL_COMPONENTS:
                table.add_row(f"  {comp} F1",
                              *(f"{s.partial[comp]['f1']:.3f}" if comp in s.partial else "-"
                                for s in stats))
    return table
