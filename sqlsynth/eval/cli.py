"""``sqlsynth eval``: score a predictions file against a gold file and print the report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from sqlsynth.eval.evaluate import evaluate
from sqlsynth.eval.io import InputFormatError, load_pairs
from sqlsynth.eval.report import render_report


def _database_manager(cfg: Any) -> Any:
    from sqlsynth.db import DatabaseManager

    if not cfg.db:
        raise ValueError("eval needs --db (a SQLite file/directory or a server URL)")
    return DatabaseManager.from_path_or_url(
        cfg.db, timeout=cfg.query_timeout, max_rows=cfg.max_rows,
        allow_privileged_account=getattr(cfg, "allow_privileged_account", False))


def run_eval(cfg: Any, *, pred: str | None, gold: str, questions: str | None = None,
             json_out: str | None = None, out: str | None = None) -> int:
    """Evaluate ``pred`` against ``gold``; with ``questions`` (and no ``pred``) the engine
    first answers that questions file into ``out``, which is then evaluated. Returns the exit
    code: 0 on success, 2 on bad input."""
    if pred is None:
        if not questions:
            print("eval: give --pred, or --questions to answer with the engine first",
                  file=sys.stderr)
            return 2
        from sqlsynth.engine.cli import run_ask

        answers = out or str(Path(cfg.out) / "eval_answers.jsonl")
        code = run_ask(cfg, question=None, questions_file=questions, out=answers,
                       show_trace=False, knowledge_file=None)
        if code:
            return code
        pred = answers
    try:
        pairs = load_pairs(pred, gold)
    except InputFormatError as err:
        print(f"eval: {err}", file=sys.stderr)
        return 2
    manager = _database_manager(cfg)
    try:
        report = evaluate(pairs, manager, etype="all")
    finally:
        manager.close()
    from rich.console import Console

    Console().print(render_report(report, partial=True))
    if json_out:
        Path(json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(json_out).write_text(report.to_json(), encoding="utf-8")
        print(f"report written to {json_out}")
    return 0
