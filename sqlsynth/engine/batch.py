"""Answer one question or a whole question file with the engine; the CLI's `ask` calls these.

A question file is JSONL with db_id, question and optional evidence/id. Each answer is
appended to the output JSONL as soon as it is ready, so an interrupted run loses nothing and
a rerun skips the ids already answered.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlsynth.engine.engine import ContentAwareEngine
from sqlsynth.engine.trace import EngineAnswer
from sqlsynth.errors import InputFormatError
from sqlsynth.storage.atomic import write_bytes_atomic
from sqlsynth.storage.formats import read_numbered_rows, strict_json


def _database_manager(target: Any) -> Any:
    if not isinstance(target, (str, os.PathLike)):
        return target  # already a DatabaseManager (or compatible)
    from sqlsynth.config import RunConfig
    from sqlsynth.factory import make_database_manager

    return make_database_manager(RunConfig(db=str(target)))


def _default_llm() -> Any:
    try:
        from sqlsynth.llm import default_chat_model
    except ImportError as exc:  # pragma: no cover - depends on the LLM layer's version
        raise RuntimeError("no llm given and sqlsynth.llm.default_chat_model is unavailable") \
            from exc
    return default_chat_model()


def build_engine(
    target: Any, *, llm: Any = None, embeddings: Any = None, **engine_kw: Any
) -> ContentAwareEngine:
    """An engine over `target` (a path, a URL or a DatabaseManager)."""
    return ContentAwareEngine(llm if llm is not None else _default_llm(),
                              _database_manager(target), embeddings, **engine_kw)


def resolve_db_id(database_manager: Any, db_id: str | None) -> str:
    """The given db_id, or the only database there is; otherwise a clear error."""
    available = database_manager.list_databases()
    if db_id is not None:
        if db_id not in available:
            raise ValueError(f"unknown db_id {db_id!r}; available: {available}")
        return db_id
    if len(available) == 1:
        return available[0]
    raise ValueError(f"several databases found, choose one with db_id: {available}")


async def aask_one(
    target: Any, question: str, db_id: str | None = None, *, evidence: str = "",
    llm: Any = None, embeddings: Any = None, engine: ContentAwareEngine | None = None,
    **engine_kw: Any,
) -> EngineAnswer:
    engine = engine or build_engine(target, llm=llm, embeddings=embeddings, **engine_kw)
    try:
        return await engine.aanswer(question, resolve_db_id(engine.db, db_id), evidence)
    finally:
        await engine.aclose()


def ask_one(
    target: Any, question: str, db_id: str | None = None, *, evidence: str = "",
    llm: Any = None, embeddings: Any = None, engine: ContentAwareEngine | None = None,
    **engine_kw: Any,
) -> EngineAnswer:
    """Answer one question over `target`; db_id may be left out when there is one database."""
    return asyncio.run(aask_one(target, question, db_id, evidence=evidence, llm=llm,
                                embeddings=embeddings, engine=engine, **engine_kw))


def load_questions(path: str | os.PathLike[str]) -> list[dict]:
    """Rows with id (the line number when absent), db_id, question, evidence.

    Any row format the pipelines read (jsonl, json, csv, parquet); errors name file, line, field.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"questions file not found: {path}")
    rows, seen = [], set()
    for lineno, record in read_numbered_rows(path):
        for name in ("db_id", "question"):
            if not isinstance(record.get(name), str) or not record[name].strip():
                raise InputFormatError(path, "missing or empty", line=lineno, field=name)
        row_id = record.get("id", lineno)
        if row_id in seen:
            raise InputFormatError(path, f"repeats {row_id!r}", line=lineno, field="id")
        seen.add(row_id)
        rows.append({"id": row_id, "db_id": record["db_id"], "question": record["question"],
                     "evidence": str(record.get("evidence") or "")})
    return rows


def _append_line(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line)


def _drop_partial_tail(path: Path) -> None:
    """A run killed mid-write leaves a line without its newline: cut it so appends stay clean."""
    if not path.exists() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if data.endswith(b"\n"):
        return
    cut = data.rfind(b"\n") + 1
    with path.open("r+b") as handle:
        handle.truncate(cut)


def _answered_ids(output: Path) -> dict[Any, dict]:
    done: dict[Any, dict] = {}
    _drop_partial_tail(output)
    if output.exists():
        with output.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut by a crash: that question is asked again
                if isinstance(row, dict) and "id" in row:
                    done[row["id"]] = row
    return done


async def aask_file(
    engine: ContentAwareEngine,
    questions: str | os.PathLike[str] | Iterable[dict],
    output: str | os.PathLike[str],
    *,
    concurrency: int = 4,
    resume: bool = True,
    with_trace: bool = False,
) -> list[dict]:
    """Answer every question, appending {id, db_id, question, SQL, status} rows to `output`.

    Returns all rows (earlier runs' included) in question order.
    """
    rows = load_questions(questions) if isinstance(questions, (str, os.PathLike)) \
        else list(questions)
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = _answered_ids(out) if resume else {}
    if not resume and out.exists():
        out.unlink()
    semaphore = asyncio.Semaphore(max(1, concurrency))
    write_lock = asyncio.Lock()

    async def one(row: dict) -> dict:
        async with semaphore:
            answer = await engine.aanswer(row["question"], row["db_id"], row.get("evidence", ""))
        result = {"id": row["id"], "db_id": row["db_id"], "question": row["question"],
                  "SQL": answer.sql, "status": answer.status}
        if with_trace:
            result["trace"] = answer.trace.to_dict()
        line = strict_json(result) + "\n"  # RFC 8259: NaN/Infinity become null
        async with write_lock:
            await asyncio.to_thread(_append_line, out, line)
        return result

    pending = [row for row in rows if row["id"] not in done]
    fresh = await asyncio.gather(*(one(row) for row in pending))
    by_id = {**done, **{r["id"]: r for r in fresh}}
    return [by_id[row["id"]] for row in rows]


def ask_file(
    target: Any,
    questions: str | os.PathLike[str] | Iterable[dict],
    output: str | os.PathLike[str],
    *,
    llm: Any = None,
    embeddings: Any = None,
    engine: ContentAwareEngine | None = None,
    concurrency: int = 4,
    resume: bool = True,
    with_trace: bool = False,
    **engine_kw: Any,
) -> list[dict]:
    """Sync entry point for `sqlsynth ask --questions`: builds the engine unless given one."""

    async def run() -> list[dict]:
        eng = engine or build_engine(target, llm=llm, embeddings=embeddings, **engine_kw)
        try:
            return await aask_file(eng, questions, output, concurrency=concurrency,
                                   resume=resume, with_trace=with_trace)
        finally:
            await eng.aclose()

    return asyncio.run(run())


def answer_file_in_order(engine: ContentAwareEngine, questions: str | os.PathLike[str],
                         output: str | os.PathLike[str], *, concurrency: int,
                         with_trace: bool = False) -> list[dict]:
    """``ask_file`` with at most ``concurrency`` (capped at 16) questions at once, then the
    answers file rewritten in question order.

    Answers are appended as they finish; leaving them in question order pairs the file line
    by line with the questions (evaluation pairs by position when rows have no ids).
    """
    rows = ask_file(None, questions, output, engine=engine,
                    concurrency=max(1, min(concurrency, 16)),
                    with_trace=with_trace)
    body = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows)
    write_bytes_atomic(output, body.encode("utf-8"))
    return rows
