"""``sqlsynth eval``: score a predictions file against a gold file and print the report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sqlsynth.eval.conventions import CONVENTIONS
from sqlsynth.eval.evaluate import evaluate
from sqlsynth.eval.io import InputFormatError, load_pairs
from sqlsynth.eval.report import render_report


def _database_manager(cfg: Any) -> Any:
    from sqlsynth.db import DatabaseManager

    if not cfg.db:
        raise ValueError("eval needs --db (a SQLite file/directory or a server URL)")
    return DatabaseManager.from_path_or_url(cfg.db, timeout=cfg.query_timeout,
                                            max_rows=cfg.max_rows,
                                            allowed_functions=getattr(cfg, "allowed_functions", ()),
                                            allow_privileged_account=getattr(
                                                cfg, "allow_privileged_account", False))


def convention_help() -> str:
    lines = ["how answers are judged (default sqlsynth):"]
    for c in CONVENTIONS.values():
        lines.append(f"'{c.name}' follows {c.follows}: {c.summary}.")
    return " ".join(lines)


def add_eval_flags(p: argparse.ArgumentParser) -> None:
    """The flags of ``sqlsynth eval`` that choose and tune the convention."""
    p.add_argument("--convention", choices=list(CONVENTIONS), default="sqlsynth",
                   help=convention_help())
    p.add_argument("--etype", choices=["all", "exec", "match"], default="all",
                   help="spider/test-suite/sqlsynth: EX and EM (all), EX only, or EM only")
    p.add_argument("--tables", help="Spider's tables.json: foreign keys for EM (and the schema "
                   "when a database file is missing), as evaluation.py --table reads it; "
                   "default: read from the SQLite files")
    p.add_argument("--suite-dir", help="test-suite: folder of <db_id>/ holding the neighbour "
                   "databases (*.sqlite) every prediction must also match on; default: the "
                   "--db folder")
    p.add_argument("--keep-distinct", action="store_true",
                   help="test-suite: keep DISTINCT (the script's --keep_distinct)")
    p.add_argument("--exec-timeout", type=float, default=None,
                   help="seconds per query for the official conventions (0: no limit); "
                   "default: bird's own 30 s per pair (x iterations for R-VES); spider, "
                   "test-suite and spider2 have no effective limit in their scripts, so only a "
                   "600 s hang guard applies")
    p.add_argument("--ves-iterations", type=int, default=100,
                   help="bird: timed runs per correct pair for R-VES (the script's 100)")
    p.add_argument("--no-ves", action="store_true", help="bird: skip R-VES timing")
    p.add_argument("--difficulty", help="bird: a JSON/JSONL file whose records carry "
                   "'difficulty', in gold order (the script's --diff_json_path), when the gold "
                   "file itself has none")
    p.add_argument("--gold-dir", help="spider2: folder of gold result CSVs (<id>.csv, "
                   "<id>_a.csv, ...); default: the gold file's folder")


def _with_difficulty(pairs: list, path: str) -> list:
    """Difficulty labels by position from ``path`` (BIRD's --diff_json_path)."""
    import json
    from dataclasses import replace

    try:
        text = Path(path).read_text(encoding="utf-8")
        rows = json.loads(text) if text.lstrip().startswith("[") else \
            [json.loads(line) for line in text.splitlines() if line.strip()]
    except (OSError, ValueError) as err:
        raise InputFormatError(path, f"cannot read: {err}") from err
    if len(rows) != len(pairs):
        raise InputFormatError(path, f"{len(rows)} records for {len(pairs)} gold records")
    labels = [r.get("difficulty") if isinstance(r, dict) else None for r in rows]
    return [replace(item, difficulty=label if isinstance(label, str) else item.difficulty)
            for item, label in zip(pairs, labels)]


def _convention_options(cfg: Any, flags: Any, gold: str) -> Any:
    from sqlsynth.eval.conventions.runner import ConventionOptions, load_tables_json

    tables = load_tables_json(flags.tables) if getattr(flags, "tables", None) else None
    timeout = getattr(flags, "exec_timeout", None)
    return ConventionOptions(
        db_root=Path(cfg.db) if getattr(cfg, "db", None) else None, tables=tables,
        suite_root=Path(flags.suite_dir) if getattr(flags, "suite_dir", None) else None,
        keep_distinct=bool(getattr(flags, "keep_distinct", False)),
        timeout="official" if timeout is None else timeout,
        ves_iterations=int(getattr(flags, "ves_iterations", 100) or 100),
        with_ves=not getattr(flags, "no_ves", False),
        gold_dir=Path(flags.gold_dir) if getattr(flags, "gold_dir", None)
        else Path(gold).resolve().parent)


def _databases_found(pairs: list, options: Any, etype: str, db: str) -> bool:
    """Whether the gold's databases are there; says which are not (stderr). False when none
    is: every pair would be scored 0 for a reason that is the setup's, not the predictions'."""
    needed = sorted({p.db_id for p in pairs})
    tables = options.tables or {}

    def found(db_id: str) -> bool:
        if options.db_file(db_id) is not None:
            return True
        return etype == "match" and db_id in tables  # EM needs only the schema

    missing = [d for d in needed if not found(d)]
    if not missing:
        return True
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    where = f"under --db {db} (as <db_id>/<db_id>.sqlite)" if db else "in --tables"
    if len(missing) == len(needed):
        print(f"eval: error: none of the {len(needed)} databases the gold names is {where}: "
              f"{shown}", file=sys.stderr)
        return False
    print(f"eval: warning: {len(missing)} of {len(needed)} databases the gold names are not "
          f"{where} ({shown}); their pairs score 0", file=sys.stderr)
    return True


def run_eval(cfg: Any, *, pred: str | None, gold: str, questions: str | None = None,
             json_out: str | None = None, out: str | None = None, flags: Any = None) -> int:
    """Evaluate ``pred`` against ``gold``; with ``questions`` (and no ``pred``) the engine
    first answers that questions file into ``out``, which is then evaluated. ``flags`` carries
    the convention flags (``add_eval_flags``). Returns the exit code: 0 on success, 2 on bad
    input."""
    if pred is None:
        if not questions:
            print("eval: give --pred, or --questions to answer with the engine first",
                  file=sys.stderr)
            return 2
        from sqlsynth.engine.batch import answer_file_in_order
        from sqlsynth.factory import make_engine_for

        answers = out or str(Path(cfg.out) / "eval_answers.jsonl")
        rows = answer_file_in_order(make_engine_for(cfg), questions, answers,
                                    concurrency=cfg.concurrency)
        ok = sum(1 for r in rows if r.get("status") == "ok")
        print(f"answered {len(rows)} questions ({ok} executed with rows) -> {answers}")
        pred = answers
    try:
        pairs = load_pairs(pred, gold)
        if getattr(flags, "difficulty", None):
            pairs = _with_difficulty(pairs, flags.difficulty)
    except InputFormatError as err:
        print(f"eval: {err}", file=sys.stderr)
        return 2
    convention = getattr(flags, "convention", None) or "sqlsynth"
    etype = getattr(flags, "etype", None) or "all"
    if convention != "sqlsynth":
        schema_only = etype == "match" and convention in ("spider", "test-suite") \
            and getattr(flags, "tables", None)
        if not getattr(cfg, "db", None) and convention != "spider2" and not schema_only:
            print("eval: the official conventions need --db (a folder of SQLite files; "
                  "--etype match needs only --tables)", file=sys.stderr)
            return 2
        try:
            options = _convention_options(cfg, flags, gold)
        except (OSError, ValueError, KeyError) as err:
            print(f"eval: --tables: {err}", file=sys.stderr)
            return 2
        if convention != "spider2" and not _databases_found(pairs, options, etype, cfg.db):
            return 2
        report = evaluate(pairs, None, etype=etype, convention=convention, options=options)
    else:
        manager = _database_manager(cfg)
        try:
            report = evaluate(pairs, manager, etype=etype)
        finally:
            manager.close()
    from rich.console import Console

    Console().print(render_report(report, partial=True))
    if json_out:
        Path(json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(json_out).write_text(report.to_json(), encoding="utf-8")
        print(f"report written to {json_out}")
    return 0
