"""Scoring (gold, prediction) pairs under one official convention, on SQLite files.

The official scripts read SQLite databases in the benchmarks' layout
(``<root>/<db_id>/<db_id>.sqlite``); so does every convention here except ``sqlsynth``.
Hardness levels are sqlsynth's (identical to Spider's on the Spider sets); BIRD and Spider 2.0
reports break down by the gold file's ``difficulty`` when it carries one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlsynth.eval.conventions import CONVENTIONS
from sqlsynth.eval.conventions import bird as bird_rules
from sqlsynth.eval.conventions import spider2 as spider2_rules
from sqlsynth.eval.conventions import test_suite as ts_rules
from sqlsynth.eval.conventions.spider_match import (
    OfficialScriptCrash,
    exact_match_parsed,
    exec_maps_equal,
    partial_scores,
    rebuild,
)
from sqlsynth.eval.conventions.spider_parser import (
    SpiderParseError,
    SpiderSchema,
    fk_map_from_tables_json,
    parse_or_empty,
    parse_spider,
    tables_json_from_sqlite,
)
from sqlsynth.eval.conventions.sqlite_exec import database_file, run_sql
from sqlsynth.eval.conventions.voting import vote
from sqlsynth.eval.io import EvalItem
from sqlsynth.eval.report import UNKNOWN, EvalReport, ItemResult, summarise
from sqlsynth.sql.hardness import spider_hardness
from sqlsynth.sql.parse import SQLParseError

#: Per-query time limits. BIRD's is the script's (30 s per pair). Spider's and Spider 2.0's
#: scripts have none and test-suite's 60 s asyncio limit cannot interrupt a running SQLite
#: call; there a 600 s hang guard stops a runaway statement (scored as a failed run) so that
#: one hostile prediction cannot stall the evaluation; ``--exec-timeout 0`` removes it.
HANG_GUARD = 600.0
DEFAULT_TIMEOUTS: dict[str, float | None] = {
    "spider": HANG_GUARD, "test-suite": HANG_GUARD, "bird": bird_rules.DEFAULT_TIMEOUT,
    "spider2": HANG_GUARD,
}
BIRD_LEVELS = (*bird_rules.DIFFICULTIES, "all")


@dataclass
class ConventionOptions:
    """Where the databases are and the switches of the official scripts."""

    db_root: Path | None = None  # folder of <db_id>/<db_id>.sqlite (or one SQLite file)
    tables: dict[str, dict[str, Any]] | None = None  # Spider tables.json entries by db_id
    suite_root: Path | None = None  # test-suite: folder of <db_id>/ with neighbour databases
    keep_distinct: bool = False  # test-suite's --keep_distinct
    timeout: float | None | str = "official"  # seconds, None, or the script's own default
    ves_iterations: int = bird_rules.DEFAULT_ITERATIONS
    with_ves: bool = True
    gold_dir: Path | None = None  # Spider 2.0: where gold CSVs named by id live
    _schemas: dict[str, SpiderSchema] = field(default_factory=dict, repr=False)
    _kmaps: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)

    def timeout_for(self, convention: str) -> float | None:
        if self.timeout == "official":
            return DEFAULT_TIMEOUTS.get(convention)
        if self.timeout is None or float(self.timeout) <= 0:
            return None
        return float(self.timeout)

    def db_file(self, db_id: str) -> Path | None:
        if self.db_root is None:
            return None
        path = database_file(self.db_root, db_id)
        return path if path.is_file() else None

    def spider_schema(self, db_id: str) -> SpiderSchema:
        """From the database file as process_sql.get_schema reads it, else tables.json."""
        if db_id not in self._schemas:
            path = self.db_file(db_id)
            if path is not None:
                self._schemas[db_id] = SpiderSchema.from_sqlite(path)
            elif self.tables and db_id in self.tables:
                self._schemas[db_id] = SpiderSchema.from_tables_json(self.tables[db_id])
            else:
                raise LookupError(f"no database file and no tables.json entry for {db_id!r}")
        return self._schemas[db_id]

    def fk_map(self, db_id: str) -> dict[str, str]:
        if db_id not in self._kmaps:
            if self.tables and db_id in self.tables:
                entry = self.tables[db_id]
            else:
                path = self.db_file(db_id)
                entry = tables_json_from_sqlite(path, db_id) if path else None
            self._kmaps[db_id] = fk_map_from_tables_json(entry) if entry else {}
        return self._kmaps[db_id]


def load_tables_json(path: str | Path) -> dict[str, dict[str, Any]]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {entry["db_id"]: entry for entry in data}


def _hardness(sql: str) -> str:
    try:
        return spider_hardness(sql, "sqlite")
    except SQLParseError:
        return UNKNOWN


def _base(item: EvalItem, convention: str) -> ItemResult:
    return ItemResult(db_id=item.db_id, gold_sql=item.gold_sql, pred_sql=item.pred_sql,
                      hardness=_hardness(item.gold_sql) if item.gold_sql else UNKNOWN,
                      question=item.question, id=item.id, convention=convention,
                      difficulty=item.difficulty,
                      candidates=len(item.candidates) if item.candidates else None)


# ----- spider / test-suite -----------------------------------------------------------------
def _spider_em(result: ItemResult, opts: ConventionOptions, gold: str, pred: str, *,
               lenient_limit: bool) -> tuple[dict | None, dict | None]:
    """Sets exact_match/partial/pred_parsed; returns the rebuilt (gold, pred) parses."""
    try:
        schema = opts.spider_schema(result.db_id)
    except LookupError as err:
        result.gold_error = str(err)
        return None, None
    kmap = opts.fk_map(result.db_id)
    try:
        g = parse_spider(gold, schema, lenient_limit=lenient_limit)
    except SpiderParseError as err:
        result.gold_error = f"Spider's parser cannot read the gold: {err}"
        return None, None
    p, parsed = parse_or_empty(pred, schema, lenient_limit=lenient_limit)
    result.pred_parsed = parsed
    g, p = rebuild(g, schema, kmap), rebuild(p, schema, kmap)
    try:
        result.exact_match = exact_match_parsed(p, g)
        result.partial = partial_scores(p, g)
    except OfficialScriptCrash as err:
        result.exact_match = False
        result.gold_error = str(err)
    return g, p


def _spider_item(item: EvalItem, opts: ConventionOptions, etype: str) -> ItemResult:
    result = _base(item, "spider")
    pred = item.pred_sql or ""
    if not pred.strip():
        result.pred_error = "missing prediction"
    g, p = _spider_em(result, opts, item.gold_sql, pred, lenient_limit=False)
    if etype == "match":
        result.exec_match = None
        return result
    if etype == "exec":
        result.exact_match = result.partial = None
    db = opts.db_file(item.db_id)
    if db is None:
        result.exec_match = False
        result.gold_error = result.gold_error or f"no SQLite file for {item.db_id!r}"
        return result
    if g is None or p is None:
        result.exec_match = False
        return result
    timeout = opts.timeout_for("spider")
    pr = run_sql(db, pred, timeout=timeout)
    if not pr.ok:
        result.exec_match = False
        result.pred_error = result.pred_error or pr.error
        result.pred_status = "timeout" if pr.timed_out else "error"
        return result
    gr = run_sql(db, item.gold_sql, timeout=timeout)
    if not gr.ok:
        result.exec_match = False
        result.gold_error = f"gold fails: {gr.error}"
        return result
    try:
        result.exec_match = exec_maps_equal(pr.rows or [], gr.rows or [], p, g)
    except OfficialScriptCrash as err:
        result.exec_match = False
        result.gold_error = str(err)
    return result


def _test_suite_item(item: EvalItem, opts: ConventionOptions, etype: str) -> ItemResult:
    result = _base(item, "test-suite")
    pred = ts_rules.rewrite_value_placeholder(item.pred_sql or "")
    if not (item.pred_sql or "").strip():
        result.pred_error = "missing prediction"
    if etype in ("all", "match"):
        _spider_em(result, opts, item.gold_sql, pred, lenient_limit=True)
    if etype == "match":
        return result
    db = opts.db_file(item.db_id)
    if opts.suite_root is not None:
        suite_db = database_file(opts.suite_root, item.db_id)
        databases = ts_rules.suite_databases(suite_db)
    else:
        databases = ts_rules.suite_databases(db) if db is not None else []
    if not databases:
        result.exec_match = False
        result.gold_error = result.gold_error or f"no SQLite file for {item.db_id!r}"
        return result
    match, pred_error, gold_error = ts_rules.exec_match(
        databases[0], item.gold_sql, pred, keep_distinct=opts.keep_distinct,
        timeout=opts.timeout_for("test-suite"), databases=databases)
    result.exec_match = match
    if pred_error:
        result.pred_error = pred_error
        result.pred_status = "timeout" if pred_error == "timeout" else "error"
    if gold_error:
        result.gold_error = gold_error
    return result


# ----- bird --------------------------------------------------------------------------------
def _bird_item(item: EvalItem, opts: ConventionOptions, etype: str) -> ItemResult:
    result = _base(item, "bird")
    db = opts.db_file(item.db_id)
    pred = item.pred_sql if item.pred_sql is not None else " "  # the script's stand-in
    if db is None:
        result.exec_match, result.soft_f1 = False, 0.0
        result.gold_error = f"no SQLite file for {item.db_id!r}"
        return result
    timeout = opts.timeout_for("bird")
    verdict = bird_rules.judge(db, item.gold_sql, pred, timeout=timeout)
    result.exec_match, result.soft_f1 = verdict.ex, verdict.soft_f1
    if verdict.pred_error:
        result.pred_error = verdict.pred_error
        result.pred_status = "timeout" if verdict.timed_out else "error"
    if opts.with_ves:
        result.ves_reward = bird_rules.ves_reward(
            db, item.gold_sql, pred, iterations=opts.ves_iterations, timeout=timeout) \
            if verdict.ex else 0.0
    return result


# ----- spider2 -----------------------------------------------------------------------------
def _pred_table(item: EvalItem, opts: ConventionOptions) -> tuple[list | None, str | None]:
    meta = item.pred_meta or {}
    if "pred_csv" in meta:
        path = Path(str(meta["pred_csv"]))
        try:
            return spider2_rules.read_csv_columns(path.read_text(encoding="utf-8")), None
        except (OSError, ValueError, UnicodeDecodeError) as err:
            return None, f"cannot read {path}: {err}"
    if not (item.pred_sql or "").strip():
        return None, "missing prediction"
    db = opts.db_file(item.db_id)
    if db is None:
        return None, f"no SQLite file for {item.db_id!r}"
    sql = spider2_rules.extract_sql(item.pred_sql or "")
    run = run_sql(db, sql, timeout=opts.timeout_for("spider2"))
    if not run.ok:
        return None, run.error
    if not run.names:
        return None, "the statement returns no columns"
    return spider2_rules.read_csv_columns(spider2_rules.result_csv(list(run.names),
                                                                    run.rows or [])), None


def _spider2_item(item: EvalItem, opts: ConventionOptions, etype: str) -> ItemResult:
    result = _base(item, "spider2")
    meta = item.gold_meta or {}
    paths = spider2_rules.gold_paths(meta.get("gold_csv"), opts.gold_dir,
                                     str(meta.get("instance_id") or item.id or ""))
    if not paths:
        result.exec_match = False
        result.gold_error = "no gold CSV (gold_csv field, or <id>.csv next to the gold file)"
        return result
    try:
        golds = [spider2_rules.read_csv_columns(p.read_text(encoding="utf-8")) for p in paths]
    except (OSError, ValueError, UnicodeDecodeError) as err:
        result.exec_match = False
        result.gold_error = f"cannot read gold CSV: {err}"
        return result
    table, error = _pred_table(item, opts)
    if table is None:
        result.exec_match = False
        result.pred_error = error
        return result
    cond = meta.get("condition_cols")
    ignore = bool(meta.get("ignore_order", False))
    try:
        if len(golds) == 1:
            result.exec_match = spider2_rules.table_matches(table, golds[0], cond, ignore)
        else:
            result.exec_match = spider2_rules.any_table_matches(table, golds, cond, ignore)
    except (IndexError, TypeError) as err:  # the script scores a failing comparison 0
        result.exec_match = False
        result.gold_error = f"comparison fails: {err}"
    return result


_JUDGES: dict[str, Callable[[EvalItem, ConventionOptions, str], ItemResult]] = {
    "spider": _spider_item, "test-suite": _test_suite_item, "bird": _bird_item,
    "spider2": _spider2_item,
}


def _voted(items: Sequence[EvalItem], opts: ConventionOptions) -> list[EvalItem]:
    """Each item with k candidates replaced by the candidate majority voting picks."""
    from dataclasses import replace

    out = []
    for item in items:
        if item.candidates and len(item.candidates) > 1:
            db = opts.db_file(item.db_id)
            chosen = vote(item.candidates, db) if db is not None else item.candidates[0]
            item = replace(item, pred_sql=chosen)
        out.append(item)
    return out


def evaluate_convention(items: Sequence[EvalItem], convention: str,
                        options: ConventionOptions | None = None, *, etype: str = "all"
                        ) -> EvalReport:
    """Score every pair as the official script of ``convention`` would (see CONVENTIONS)."""
    if convention not in _JUDGES:
        raise ValueError(f"convention must be one of {sorted(_JUDGES)}, got {convention!r}")
    opts = options or ConventionOptions()
    items = _voted(items, opts)
    judge = _JUDGES[convention]
    if convention in ("bird", "spider2"):
        etype = "exec"
    results = [judge(item, opts, etype) for item in items]
    spec = CONVENTIONS[convention]
    if spec.group_by == "difficulty":
        report = summarise(results, etype, group_by="difficulty", levels_order=BIRD_LEVELS)
        levels = report.levels
        if levels.get(UNKNOWN) and levels[UNKNOWN].count == levels["all"].count:
            levels.pop(UNKNOWN)
        report.levels = {k: v for k, v in levels.items() if v.count or k == "all"}
    else:
        report = summarise(results, etype, official_partial=True)
    report.convention, report.follows = convention, spec.follows
    report.metrics = {"spider": ("unparsed",), "test-suite": ("unparsed",),
                      "bird": ("soft_f1", "ves") if opts.with_ves else ("soft_f1",),
                      "spider2": ()}[convention]
    return report
