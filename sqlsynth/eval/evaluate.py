"""Execution accuracy (EX) and exact-set-match (EM) of predictions, by Spider hardness.

EX runs both statements through the database layer's safe executor (predictions are untrusted
SQL) and compares results with ``results_match``, order-sensitive only when the gold query
orders its output; a result cut at the row cap never matches (a cut gold result is reported as
a gold error). EM and hardness come from ``sqlsynth.sql`` (the same implementation the
pipeline's SQLComponentClassifier uses).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlsynth.eval.io import EvalItem
from sqlsynth.eval.report import UNKNOWN, EvalReport, ItemResult, summarise
from sqlsynth.sql.exact_match import exact_set_match, partial_match_scores
from sqlsynth.sql.hardness import spider_hardness
from sqlsynth.sql.parse import SQLParseError

ETYPES = ("all", "exec", "match")


def _check_etype(etype: str) -> None:
    if etype not in ETYPES:
        raise ValueError(f"etype must be one of {ETYPES}, got {etype!r}")


def _status(res: Any) -> str:
    status = getattr(res, "status", None)
    return str(getattr(status, "value", status))


class _Judge:
    """Per-item EM, hardness and EX decisions; schemas fetched once per database."""

    def __init__(self, db: Any, etype: str) -> None:
        self.db = db
        self.etype = etype
        self.dialect: str = getattr(db, "dialect", "sqlite") if db is not None else "sqlite"
        self._schemas: dict[str, Any] = {}

    def schema(self, db_id: str) -> Any:
        if db_id not in self._schemas:
            try:
                self._schemas[db_id] = self.db.get_schema(db_id) if self.db is not None else None
            except Exception:  # noqa: BLE001 - unknown db: EM still works without a schema
                self._schemas[db_id] = None
        return self._schemas[db_id]

    def static_part(self, item: EvalItem) -> ItemResult:
        result = ItemResult(db_id=item.db_id, gold_sql=item.gold_sql, pred_sql=item.pred_sql,
                            hardness=UNKNOWN, question=item.question, id=item.id,
                            difficulty=item.difficulty,
                            candidates=len(item.candidates) if item.candidates else None)
        try:
            result.hardness = spider_hardness(item.gold_sql, self.dialect)
        except SQLParseError as err:
            result.gold_error = f"gold SQL not parseable: {err}"
        if not (item.pred_sql or "").strip():
            result.pred_error = "missing prediction"
        if self.etype in ("all", "match") and result.hardness != UNKNOWN:
            pred = item.pred_sql or ""
            schema = self.schema(item.db_id)
            result.exact_match = exact_set_match(item.gold_sql, pred, self.dialect, schema)
            result.partial = partial_match_scores(item.gold_sql, pred, self.dialect, schema)
        return result

    def exec_part(self, result: ItemResult, gold_res: Any, pred_res: Any | None) -> None:
        from sqlsynth.db import query_orders_output, results_match

        result.gold_status = _status(gold_res)
        if not gold_res.ok:
            result.gold_error = result.gold_error or f"{result.gold_status}: {gold_res.error}"
        elif gold_res.truncated:
            # the first max_rows rows of two different answers may agree: no verdict possible
            result.gold_error = result.gold_error or (
                f"gold result truncated at {len(gold_res.rows)} rows: EX undecidable "
                "(raise max_rows)")
        if pred_res is None:
            result.exec_match = False
            return
        result.pred_status = _status(pred_res)
        if not pred_res.ok:
            result.pred_error = f"{result.pred_status}: {pred_res.error}"
        ordered = query_orders_output(result.gold_sql, self.dialect)
        # results_match: only two complete OK results can match (a cut one never does)
        result.exec_match = results_match(gold_res, pred_res, ordered=ordered)


def _exec_requests(items: Sequence[EvalItem]) -> list[tuple[str, str]]:
    """Unique (db_id, sql) pairs to run, gold first; missing predictions are not run."""
    seen: dict[tuple[str, str], None] = {}
    for item in items:
        seen.setdefault((item.db_id, item.gold_sql), None)
        if (item.pred_sql or "").strip():
            seen.setdefault((item.db_id, item.pred_sql), None)  # type: ignore[arg-type]
    return list(seen)


def _assemble(judge: _Judge, items: Sequence[EvalItem],
              results: dict[tuple[str, str], Any] | None) -> EvalReport:
    out = []
    for item in items:
        result = judge.static_part(item)
        if results is not None:
            pred_res = results.get((item.db_id, item.pred_sql)) if item.pred_sql else None
            judge.exec_part(result, results[(item.db_id, item.gold_sql)], pred_res)
        out.append(result)
    return summarise(out, judge.etype)


def _options(options: Any, manager: Any) -> Any:
    """The given ConventionOptions, else ones pointing at a SQLite manager's root folder."""
    if options is not None:
        return options
    from pathlib import Path

    from sqlsynth.eval.conventions.runner import ConventionOptions

    root = (getattr(manager, "config", None) or {}).get("root_path") \
        if getattr(manager, "db_type", None) == "sqlite" else None
    return ConventionOptions(db_root=Path(root) if root else None)


def _vote_with_manager(pairs: Sequence[EvalItem], manager: Any) -> list[EvalItem]:
    """Majority voting @k (see ``conventions.voting``) through the database layer."""
    from dataclasses import replace

    requests = [(item.db_id, sql) for item in pairs if item.candidates and
                len(item.candidates) > 1 for sql in item.candidates]
    if not requests:
        return list(pairs)
    runs = dict(zip(requests, manager.execute_many(requests)))
    out = []
    for item in pairs:
        if item.candidates and len(item.candidates) > 1:
            groups: dict[frozenset, list[str]] = {}
            for sql in item.candidates:
                res = runs[(item.db_id, sql)]
                if res.ok and not res.truncated:
                    groups.setdefault(frozenset(map(tuple, res.rows)), []).append(sql)
            chosen = max(groups.values(), key=len)[0] if groups else item.candidates[0]
            item = replace(item, pred_sql=chosen)
        out.append(item)
    return out


def evaluate(pairs: Sequence[EvalItem], database_manager: Any = None, *,
             etype: str = "all", convention: str = "sqlsynth", options: Any = None
             ) -> EvalReport:
    """EX and/or EM of every pair, broken down by the gold query's Spider hardness.

    ``database_manager`` is a ``sqlsynth.db.DatabaseManager``; it may be None for
    ``etype="match"``. ``convention`` other than ``sqlsynth`` scores as an official script
    does (``sqlsynth.eval.conventions``), on SQLite files described by ``options`` (a
    ``ConventionOptions``). Predictions with k candidates are first reduced by majority vote.
    """
    if convention != "sqlsynth":
        from sqlsynth.eval.conventions.runner import evaluate_convention

        return evaluate_convention(pairs, convention, _options(options, database_manager),
                                   etype=etype)
    _check_etype(etype)
    if database_manager is not None:
        pairs = _vote_with_manager(pairs, database_manager)
    judge = _Judge(database_manager, etype)
    results = None
    if etype in ("all", "exec"):
        if database_manager is None:
            raise ValueError("execution accuracy needs a database_manager")
        requests = _exec_requests(pairs)
        results = dict(zip(requests, database_manager.execute_many(requests)))
    return _assemble(judge, pairs, results)


async def aevaluate(pairs: Sequence[EvalItem], database_manager: Any = None, *,
                    etype: str = "all", convention: str = "sqlsynth", options: Any = None
                    ) -> EvalReport:
    """``evaluate`` for callers already inside an event loop."""
    if convention != "sqlsynth":
        import asyncio

        from sqlsynth.eval.conventions.runner import evaluate_convention

        return await asyncio.to_thread(evaluate_convention, pairs, convention,
                                       _options(options, database_manager), etype=etype)
    _check_etype(etype)
    judge = _Judge(database_manager, etype)
    results = None
    if etype in ("all", "exec"):
        if database_manager is None:
            raise ValueError("execution accuracy needs a database_manager")
        requests = _exec_requests(pairs)
        results = dict(zip(requests, await database_manager.aexecute_many(requests)))
    return _assemble(judge, pairs, results)
