"""``sqlsynth ask``: one question or a question file through the engine, from a RunConfig."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlsynth.engine.batch import answer_file_in_order, ask_one, resolve_db_id
from sqlsynth.engine.knowledge import import_knowledge
from sqlsynth.factory import make_engine_for


def _cli_db_id(database_manager: Any, db_id: str | None) -> str:
    """``resolve_db_id`` with the messages naming the command line's flag."""
    try:
        return resolve_db_id(database_manager, db_id)
    except ValueError:
        available = database_manager.list_databases()
        if db_id is not None:
            raise ValueError(f"unknown database {db_id!r} (--db-id); available: "
                             f"{', '.join(available) or 'none'}") from None
        raise ValueError(f"several databases found: choose one with --db-id "
                         f"({', '.join(available)})") from None


def run_ask(cfg: Any, *, question: str | None, questions_file: str | None, out: str | None,
            show_trace: bool, knowledge_file: str | None, as_json: bool = False) -> int:
    """Answer and print; returns the process exit code (an ``ExitCode``)."""
    from sqlsynth.errors import ExitCode

    if not question and not questions_file:
        raise ValueError("ask: give a question, or --questions FILE")
    engine = make_engine_for(cfg)
    db_id = cfg.db_ids[0] if cfg.db_ids else None
    if question and not questions_file:
        db_id = _cli_db_id(engine.db, db_id)
    if knowledge_file:
        target_id = _cli_db_id(engine.db, db_id)
        added = import_knowledge(str(Path(cfg.out) / "knowledge"), target_id, knowledge_file)
        print(f"imported {added} knowledge entries for {target_id}")
    if questions_file:
        output = out or str(Path(cfg.out) / "answers.jsonl")
        rows = answer_file_in_order(engine, questions_file, output,
                                    concurrency=cfg.concurrency, with_trace=show_trace)
        ok = sum(1 for r in rows if r.get("status") == "ok")
        print(f"answered {len(rows)} questions ({ok} executed with rows) -> {output}")
        return ExitCode.OK
    answer = ask_one(None, question or "", db_id, engine=engine)
    if as_json:
        print(json.dumps(answer_json(question or "", db_id, answer), ensure_ascii=False,
                         default=str))
    else:
        _print_answer(answer, show_trace)
    # like grep: a distinct code says "no answer", so scripts can tell it from a result
    return ExitCode.OK if answer.status in ("ok", "empty") else ExitCode.NO_RESULT


def answer_json(question: str, db_id: str | None, answer: Any) -> dict[str, Any]:
    """``ask --json``: one object with the question, the SQL, its result and the trace."""
    body = answer.to_dict()
    return {"question": question, "db_id": db_id, "sql": body["sql"],
            "status": body["status"], "columns": body["columns"], "rows": body["rows"],
            "trace": body["trace"]}


def _print_answer(answer: Any, show_trace: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=True)  # piped SQL stays on its lines, never cut at 80 columns
    console.print(f"[bold]SQL[/bold] ({answer.status}):")
    print(answer.sql or "-", flush=True)
    if answer.columns:
        table = Table(*[str(c) for c in answer.columns])
        for row in list(answer.rows)[:20]:
            table.add_row(*[str(v) for v in row])
        console.print(table)
        if len(answer.rows) > 20:
            console.print(f"... {len(answer.rows) - 20} more rows")
    if show_trace:  # --json gives the answer and the trace as one parseable object
        print(json.dumps(answer.trace.to_dict(), indent=2, ensure_ascii=False, default=str))
