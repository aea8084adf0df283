"""``sqlsynth ask``: one question or a question file through the engine, from a RunConfig."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlsynth.engine.batch import ask_file, ask_one, resolve_db_id
from sqlsynth.engine.knowledge import import_knowledge


def _engine(cfg: Any) -> Any:
    from sqlsynth import factory

    chat, embeddings = factory.make_models(cfg)  # one cache, one --concurrency for both
    return factory.make_engine(cfg, factory.make_database_manager(cfg), chat, embeddings)


def run_ask(cfg: Any, *, question: str | None, questions_file: str | None, out: str | None,
            show_trace: bool, knowledge_file: str | None) -> int:
    """Answer and print; returns the process exit code."""
    if not question and not questions_file:
        raise ValueError("ask: give a question, or --questions FILE")
    engine = _engine(cfg)
    db_id = cfg.db_ids[0] if cfg.db_ids else None
    if knowledge_file:
        target_id = resolve_db_id(engine.db, db_id)
        added = import_knowledge(str(Path(cfg.out) / "knowledge"), target_id, knowledge_file)
        print(f"imported {added} knowledge entries for {target_id}")
    if questions_file:
        output = out or str(Path(cfg.out) / "answers.jsonl")
        rows = ask_file(None, questions_file, output, engine=engine,
                        concurrency=max(1, min(cfg.concurrency, 16)), with_trace=show_trace)
        # answers were appended as they finished; leave them in question order, so the file
        # pairs line by line with the questions (evaluation pairs by position without ids)
        tmp = Path(output).with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False, default=str) + "\n"
                               for r in rows), encoding="utf-8")
        tmp.replace(output)
        ok = sum(1 for r in rows if r.get("status") == "ok")
        print(f"answered {len(rows)} questions ({ok} executed with rows) -> {output}")
        return 0
    answer = ask_one(None, question or "", db_id, engine=engine)
    _print_answer(answer, show_trace)
    # like grep: 1 says "no answer", so scripts can tell a failed final SQL from a result
    return 0 if answer.status in ("ok", "empty") else 1


def _print_answer(answer: Any, show_trace: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]SQL[/bold] ({answer.status}):\n{answer.sql or '-'}")
    if answer.columns:
        table = Table(*[str(c) for c in answer.columns])
        for row in list(answer.rows)[:20]:
            table.add_row(*[str(v) for v in row])
        console.print(table)
        if len(answer.rows) > 20:
            console.print(f"... {len(answer.rows) - 20} more rows")
    if show_trace:
        print(json.dumps(answer.trace.to_dict(), indent=2, ensure_ascii=False, default=str))
