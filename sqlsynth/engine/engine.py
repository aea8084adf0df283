"""The content-aware Text-to-SQL engine (TCSR-SQL's three stages, plus a value index).

1. Keyword extraction and fuzzy detection: the model names the question's content keywords
   with one table and candidate columns each, proposes how each value may be stored, and seed
   queries (column x proposed value x skeleton) probe the database.
2. Knowledge retrieval and alignment: a probe that finds exactly one stored value becomes an
   entry of the database's encoding knowledge table; each keyword then takes the entry whose
   keyword is most similar (embedding cosine).
3. Generation and revision: the model writes SQL with the chosen knowledge; errors and empty
   results go back to it, up to `max_revisions` times.
All SQL, the model's and the probes', runs through the database layer's safe executor.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sqlsynth.engine import prompts
from sqlsynth.engine.alignment import char_ngram_vectors, choose_entries, cosine_matrix
from sqlsynth.engine.keywords import (
    ContentKeyword,
    parse_json_reply,
    validate_keywords,
    validate_variants,
)
from sqlsynth.engine.knowledge import KnowledgeEntry, KnowledgeTable
from sqlsynth.engine.probes import (
    SKELETONS,
    Probe,
    classify,
    column_sample_sql,
    holds_text,
    probe_sql,
)
from sqlsynth.engine.trace import EngineAnswer, Trace
from sqlsynth.engine.value_index import ValueIndex
from sqlsynth.llm.errors import LLMUnavailableError

log = logging.getLogger(__name__)


@dataclass
class _Context:
    """What stage 3 needs, computed once per question (shared by all candidates)."""

    schema_text: str
    foreign_keys: str
    knowledge: list[dict] = field(default_factory=list)
    hints: list[dict] = field(default_factory=list)


@dataclass
class _Attempt:
    sql: str | None
    status: str
    columns: tuple[str, ...] = ()
    rows: tuple[tuple, ...] = ()


class ContentAwareEngine:
    """Answers questions over a database; also a `Solver` for execution-based classification.

    `embeddings` is optional: without it, alignment uses character-trigram vectors. The
    knowledge tables live in `knowledge_dir`, the value indexes in `index_dir` (default
    `<knowledge_dir>/value_index`); both are separate files, never the user's database.
    """

    def __init__(
        self,
        llm: Any,
        database_manager: Any,
        embeddings: Any | None = None,
        *,
        knowledge_dir: str | os.PathLike[str] = "./cache/knowledge",
        index_dir: str | os.PathLike[str] | None = None,
        max_revisions: int = 3,
        max_candidates_per_keyword: int = 5,
        max_columns_per_keyword: int = 4,
        use_value_index: bool = True,
        use_value_hints: bool = True,
        sample_rows: int = 4,
        column_samples: int = 8,
        probe_max_rows: int = 20,
        temperature: float = 0.0,
        sample_temperature: float = 0.8,
        min_knowledge_similarity: float = 0.3,
        index_max_distinct: int = 100_000,
        index_build_timeout: float = 120.0,
    ) -> None:
        self.llm = llm
        self.db = database_manager
        self.embeddings = embeddings
        self.knowledge_dir = Path(knowledge_dir)
        self.index_dir = Path(index_dir) if index_dir else self.knowledge_dir / "value_index"
        if max_revisions < 0:
            raise ValueError(f"max_revisions must be 0 or more, got {max_revisions}")
        self.max_revisions = max_revisions
        self.max_candidates = max_candidates_per_keyword
        self.max_columns = max_columns_per_keyword
        self.use_value_index = use_value_index
        self.use_value_hints = use_value_hints
        self.sample_rows = sample_rows
        self.column_samples = column_samples
        self.probe_max_rows = probe_max_rows
        self.temperature = temperature
        self.sample_temperature = sample_temperature
        self.min_similarity = min_knowledge_similarity
        self.index_max_distinct = index_max_distinct
        self.index_build_timeout = index_build_timeout
        self._tables: dict[str, KnowledgeTable] = {}
        self._indexes: dict[str, ValueIndex | None] = {}
        self._index_locks: dict[str, asyncio.Lock] = {}
        self._index_errors: dict[str, str] = {}
        self._embedding_error: str | None = None

    # -- public API ----------------------------------------------------------------------
    def knowledge_table(self, db_id: str) -> KnowledgeTable:
        if db_id not in self._tables:
            self._tables[db_id] = KnowledgeTable(self.knowledge_dir, db_id)
        return self._tables[db_id]

    async def avalue_index(self, db_id: str) -> ValueIndex | None:
        """The database's value index, built on first use; None when disabled or failed."""
        if not self.use_value_index:
            return None
        lock = self._index_locks.setdefault(db_id, asyncio.Lock())
        async with lock:
            if db_id not in self._indexes:
                try:
                    self._indexes[db_id] = await ValueIndex.aopen_or_build(
                        self.db, db_id, self.index_dir,
                        max_distinct=self.index_max_distinct,
                        build_timeout=self.index_build_timeout,
                    )
                except Exception as exc:  # noqa: BLE001 - live probing still works
                    log.warning("value index for %s unavailable: %s", db_id, exc)
                    self._index_errors[db_id] = f"{type(exc).__name__}: {exc}"
                    self._indexes[db_id] = None
            return self._indexes[db_id]

    async def aanswer(self, question: str, db_id: str, evidence: str = "") -> EngineAnswer:
        trace = Trace(question=question, db_id=db_id, evidence=evidence or "")
        if not self.db.database_exists(db_id):
            trace.errors.append(f"unknown database {db_id!r}")
            return EngineAnswer(None, (), (), "unknown_db", trace)
        context = await self._prepare(question, db_id, evidence or "", trace)
        attempts = await self._generate(question, db_id, evidence or "", context, trace, n=1)
        best = attempts[0]
        return EngineAnswer(best.sql, best.columns, best.rows, best.status, trace)

    def answer(self, question: str, db_id: str, evidence: str = "") -> EngineAnswer:
        async def answer_then_close_clients() -> EngineAnswer:
            try:
                return await self.aanswer(question, db_id, evidence)
            finally:
                await self._close_clients()

        return asyncio.run(answer_then_close_clients())

    async def agenerate_sql(
        self, *, db_id: str, question: str, evidence: str = "", prompt: str = "", n: int = 1
    ) -> list[str | None]:
        """`Solver` protocol: n candidates sharing stages 1-2; the row's `prompt` is unused
        because the engine builds its own prompts from the database."""
        if not self.db.database_exists(db_id):
            return [None] * n
        trace = Trace(question=question, db_id=db_id, evidence=evidence or "")
        context = await self._prepare(question, db_id, evidence or "", trace)
        attempts = await self._generate(question, db_id, evidence or "", context, trace, n=n)
        return [a.sql for a in attempts]

    async def aclose(self) -> None:
        """Close the value indexes (reopened on demand) and this loop's model clients."""
        for index in self._indexes.values():
            if index is not None:
                index.close()
        self._indexes.clear()
        await self._close_clients()

    async def _close_clients(self) -> None:
        from sqlsynth.llm.base import aclose_models

        await aclose_models(self.llm, self.embeddings)

    # -- stages 1 and 2 --------------------------------------------------------------------
    def _fitted_schema(self, question: str, evidence: str, schema: Any, trace: Trace
                       ) -> tuple[Any, str]:
        """The schema (and its text) cut to the tables the question needs when the whole one
        would not fit the model's context; the trace notes what was left out."""
        from sqlsynth.db.schema import render_schema_with_examples
        from sqlsynth.prompts.fit import budget_of, fit_schema, pruned_note

        budget = budget_of(self.llm)
        full_text = self.db.render_schema_with_examples(schema.db_id)
        if budget is None:
            return schema, full_text

        def fits(candidate: Any) -> bool:
            text = (full_text if candidate is schema
                    else render_schema_with_examples(candidate, self.db.engine_name))
            return budget.fits(prompts.generate_messages(
                question=question, evidence=evidence, engine=self.db.engine_name,
                schema_text=text, foreign_keys=_render_foreign_keys(candidate),
                knowledge=[], hints=[]))

        fitted, dropped = fit_schema(schema, f"{question} {evidence}", fits)
        if not dropped:
            return schema, full_text
        trace.notes.append(pruned_note(dropped, len(schema.tables)))
        return fitted, render_schema_with_examples(fitted, self.db.engine_name)

    async def _prepare(self, question: str, db_id: str, evidence: str, trace: Trace) -> _Context:
        schema, schema_text = self._fitted_schema(question, evidence,
                                                  self.db.get_schema(db_id), trace)
        context = _Context(
            schema_text=schema_text,
            foreign_keys=_render_foreign_keys(schema),
        )
        started = time.perf_counter()
        keywords = await self._extract_keywords(question, evidence, db_id, schema, context, trace)
        trace.timings["keywords"] = time.perf_counter() - started
        if not keywords:
            return context
        started = time.perf_counter()
        index = await self.avalue_index(db_id)
        if db_id in self._index_errors:
            trace.errors.append(f"value index: {self._index_errors[db_id]}")
        trace.timings["value_index"] = time.perf_counter() - started
        started = time.perf_counter()
        text_columns = {
            (t.name, c.name): holds_text(c.type, self.db.dialect)
            for t in schema.tables for c in t.columns
        }
        per_keyword = await asyncio.gather(
            *(self._probe_keyword(kw, db_id, text_columns, index, trace) for kw in keywords)
        )
        trace.timings["probing"] = time.perf_counter() - started
        started = time.perf_counter()
        await self._align(db_id, keywords, per_keyword, context, trace)
        if index is not None and self.use_value_hints:
            await self._hints(keywords, context, index, trace)
        trace.timings["alignment"] = time.perf_counter() - started
        return context

    async def _extract_keywords(
        self, question: str, evidence: str, db_id: str, schema: Any, context: _Context,
        trace: Trace,
    ) -> list[ContentKeyword]:
        samples = await asyncio.gather(
            *(asyncio.to_thread(self.db.sample_rows, db_id, t.name, self.sample_rows)
              for t in schema.tables)
        )
        sample_lines = []
        for table, res in zip(schema.tables, samples):
            rows = " | ".join(_row_text(r) for r in res.rows) if res.ok else "(unavailable)"
            sample_lines.append(f"{table.name}: {rows or '(empty)'}")
        messages = prompts.keyword_messages(
            question, evidence, context.schema_text, "\n".join(sample_lines)
        )
        from sqlsynth.prompts.fit import budget_of

        budget = budget_of(self.llm)
        if budget is not None and not budget.fits(messages):
            trace.notes.append("sample rows left out of the keyword prompt to fit the "
                               "model's context")
            messages = prompts.keyword_messages(question, evidence, context.schema_text,
                                                "(left out to fit the model's context)")
        trace.keyword_prompt = messages
        reply = (await self.llm.achat(messages, n=1, temperature=self.temperature))[0]
        trace.keyword_response = reply
        try:
            payload = parse_json_reply(reply)
        except ValueError as exc:
            trace.errors.append(f"keyword extraction: {exc}")
            trace.dropped.append({"item": reply, "reason": f"unparseable reply: {exc}"})
            return []
        tables = {t.name: [c.name for c in t.columns] for t in schema.tables}
        plan = validate_keywords(payload, tables, max_columns=self.max_columns)
        trace.content_keywords = [
            {"keyword": k.keyword, "table": k.table, "columns": list(k.columns)}
            for k in plan.content
        ]
        trace.schema_keywords = plan.schema
        trace.dropped.extend(plan.dropped)
        return plan.content

    async def _probe_keyword(
        self, kw: ContentKeyword, db_id: str, text_columns: dict, index: ValueIndex | None,
        trace: Trace,
    ) -> list[dict]:
        """Propose stored forms of one keyword, then run every seed query for it."""
        dialect = self.db.dialect
        sample_results = await asyncio.gather(
            *(self.db.aexecute(db_id, column_sample_sql(kw.table, c, dialect, self.column_samples))
              for c in kw.columns)
        )
        column_samples = {
            c: [r[0] for r in res.rows] if res.ok else []
            for c, res in zip(kw.columns, sample_results)
        }
        messages = prompts.variant_messages(kw.keyword, kw.table, column_samples, self.max_candidates)
        reply = (await self.llm.achat(messages, n=1, temperature=self.temperature))[0]
        record: dict[str, Any] = {
            "keyword": kw.keyword, "table": kw.table, "columns": list(kw.columns),
            "samples": column_samples, "prompt": messages, "response": reply,
        }
        try:
            values, dropped = validate_variants(
                parse_json_reply(reply), kw.keyword, self.max_candidates
            )
        except ValueError as exc:
            values, dropped = [kw.keyword], [{"item": reply, "reason": f"unparseable reply: {exc}"}]
        record["values"], record["dropped"] = values, dropped
        trace.variants.append(record)

        probes = [
            Probe(kw.keyword, kw.table, column, value, skeleton,
                  text_columns.get((kw.table, column), True))
            for column in kw.columns for value in values for skeleton in SKELETONS
        ]
        results = await asyncio.gather(*(self._run_probe(p, db_id, index) for p in probes))
        trace.probes.extend(results)
        return results

    async def _run_probe(self, probe: Probe, db_id: str, index: ValueIndex | None) -> dict:
        sql = probe_sql(probe, self.db.dialect)
        record: dict[str, Any] = {
            "keyword": probe.keyword, "table": probe.table, "column": probe.column,
            "value": probe.value, "skeleton": probe.skeleton, "sql": sql,
        }
        if sql is None:
            record.update(source="skipped", status="skipped", values=[], outcome="none",
                          error="non-numeric value for a non-text column")
            return record
        if index is not None and index.covers(probe.table, probe.column):
            started = time.perf_counter()
            found = await asyncio.to_thread(index.lookup, probe)
            values = list(found or [])
            record.update(source="index", status="ok", values=values[: self.probe_max_rows],
                          truncated=len(values) > self.probe_max_rows,
                          outcome=classify(values), elapsed=time.perf_counter() - started)
            return record
        res = await self.db.aexecute(db_id, sql, max_rows=self.probe_max_rows + 1)
        values = [row[0] for row in res.rows]
        outcome = "error" if not res.ok else classify(values)
        if res.truncated and outcome == "unique":  # cannot happen with max_rows > 1, but be safe
            outcome = "multiple"
        record.update(source="live", status=res.status.value, values=values[: self.probe_max_rows],
                      truncated=res.truncated or len(values) > self.probe_max_rows,
                      outcome=outcome, elapsed=res.elapsed, error=res.error)
        return record

    async def _align(
        self, db_id: str, keywords: list[ContentKeyword], per_keyword: list[list[dict]],
        context: _Context, trace: Trace,
    ) -> None:
        table = self.knowledge_table(db_id)
        found: list[KnowledgeEntry] = []
        priority: dict[tuple, int] = {}
        rank = 0
        for results in per_keyword:
            # equality hits before substring hits, then the model's order of proposals
            for skeleton in SKELETONS:
                for i, rec in enumerate(results):
                    if rec["skeleton"] != skeleton:
                        continue
                    if rec["outcome"] != "unique":
                        reason = {"none": "no stored value", "multiple": "several stored values",
                                  "error": f"probe failed: {rec.get('error')}"}[rec["outcome"]]
                        if rec.get("status") == "skipped":
                            reason = f"skipped: {rec.get('error')}"
                        trace.knowledge_discarded.append(
                            {"keyword": rec["keyword"], "sql": rec["sql"], "reason": reason,
                             "values": rec["values"][:5]}
                        )
                        continue
                    entry = KnowledgeEntry(rec["keyword"], db_id, rec["table"], rec["column"],
                                           rec["values"][0], source="probe")
                    priority.setdefault(entry.key(), 1 + rank)
                    rank += 1
                    found.append(entry)
        added = await asyncio.to_thread(table.add, found)
        trace.knowledge_added = [e.to_dict() for e in added]
        entries = await asyncio.to_thread(table.entries)
        for entry in entries:
            if entry.source == "user":
                priority[entry.key()] = 0
        names = [k.keyword for k in keywords]
        similarity, method = await self._similarity(names, [e.keyword for e in entries], trace)
        choices, skipped = choose_entries(
            names, entries, similarity, min_similarity=self.min_similarity, priority=priority
        )
        for choice in choices:
            chosen = choice.entry.to_dict()
            context.knowledge.append(chosen)
            trace.knowledge_chosen.append({
                "keyword": choice.keyword, "entry": chosen,
                "similarity": round(choice.similarity, 4), "method": method,
                "runner_ups": [{"entry": e.to_dict(), "similarity": round(s, 4)}
                               for e, s in choice.runner_ups],
            })
        trace.knowledge_discarded.extend(skipped)

    async def _similarity(self, keywords: list[str], entry_keywords: list[str], trace: Trace
                          ) -> tuple[np.ndarray, str]:
        if not entry_keywords:
            return np.zeros((len(keywords), 0), dtype=np.float32), "none"
        if self.embeddings is not None and self._embedding_error is None:
            unique = list(dict.fromkeys([*keywords, *entry_keywords]))
            try:
                vectors = np.asarray(await self.embeddings.aembed(unique), dtype=np.float32)
            except LLMUnavailableError as exc:
                # chat-only endpoints (vLLM, llama.cpp server) often serve no /embeddings: the
                # question can still be answered, so fall back for the rest of the run
                self._embedding_error = f"{type(exc).__name__}: {exc}"
                log.warning("embeddings unavailable, aligning by character trigrams: %s", exc)
            else:
                row = {text: i for i, text in enumerate(unique)}
                a = vectors[[row[k] for k in keywords]]
                b = vectors[[row[k] for k in entry_keywords]]
                return cosine_matrix(a, b), f"embedding:{getattr(self.embeddings, 'model', '?')}"
        if self._embedding_error is not None:
            trace.errors.append(f"embeddings: {self._embedding_error}")
        return cosine_matrix(char_ngram_vectors(keywords), char_ngram_vectors(entry_keywords)), \
            "char-trigram"

    async def _hints(
        self, keywords: list[ContentKeyword], context: _Context, index: ValueIndex, trace: Trace
    ) -> None:
        """Unconfirmed near matches from the index for keywords that got no knowledge."""
        covered = {k["keyword"] for k in trace.knowledge_chosen}
        for kw in keywords:
            if kw.keyword in covered:
                continue
            for column in kw.columns:
                if not index.covers(kw.table, column):
                    continue
                matches = await asyncio.to_thread(
                    index.fuzzy, kw.keyword, table=kw.table, column=column, k=3
                )
                values = [m.value for m in matches if m.score >= 0.45]
                if values:
                    hint = {"keyword": kw.keyword, "table": kw.table, "column": column,
                            "values": values, "scores": [round(m.score, 3) for m in matches
                                                         if m.score >= 0.45]}
                    context.hints.append(hint)
                    trace.value_hints.append(hint)

    # -- stage 3 -----------------------------------------------------------------------------
    async def _generate(
        self, question: str, db_id: str, evidence: str, context: _Context, trace: Trace, n: int
    ) -> list[_Attempt]:
        from sqlsynth.sql import extract_sql

        started = time.perf_counter()
        common: dict[str, Any] = {
            "question": question, "evidence": evidence, "engine": self.db.engine_name,
            "schema_text": context.schema_text, "foreign_keys": context.foreign_keys,
            "knowledge": context.knowledge, "hints": context.hints,
        }
        messages = prompts.generate_messages(**common)
        temperature = self.temperature if n == 1 else self.sample_temperature
        replies = await self.llm.achat(messages, n=n, temperature=temperature)

        async def chain(candidate: int, reply: str) -> _Attempt:
            prompt, last_ok_empty, last = messages, None, None
            outcome, error, error_class = "", None, None
            for round_ in range(self.max_revisions + 1):
                if round_ > 0:
                    prompt = prompts.revise_messages(
                        **common, sql=last.sql or "(no SQL was found in the reply)",
                        outcome=outcome, error=error, error_class=error_class,
                    )
                    reply = (await self.llm.achat(prompt, n=1, temperature=self.temperature))[0]
                sql = extract_sql(reply)
                record: dict[str, Any] = {"candidate": candidate, "round": round_,
                                          "prompt": prompt, "response": reply, "sql": sql}
                if sql is None:
                    outcome, error, error_class = "no_sql", "no ```sql block in the reply", None
                    last = _Attempt(None, "no_sql")
                else:
                    res = await self.db.aexecute(db_id, sql)
                    record.update(status=res.status.value, error=res.error,
                                  error_class=res.error_class, row_count=len(res.rows),
                                  elapsed=res.elapsed, rows=[list(r) for r in res.rows[:5]])
                    if res.ok and res.rows:
                        record["outcome"] = "ok"
                        trace.attempts.append(record)
                        return _Attempt(sql, "ok", res.columns, res.rows)
                    if res.ok:
                        outcome, error, error_class = "empty", "the query returned no rows", None
                        last = last_ok_empty = _Attempt(sql, "empty", res.columns, res.rows)
                    else:
                        outcome, error, error_class = res.status.value, res.error, res.error_class
                        last = _Attempt(sql, res.status.value)
                record["outcome"] = outcome
                trace.attempts.append(record)
            return last_ok_empty or last  # type: ignore[return-value]

        attempts = await asyncio.gather(*(chain(i, r) for i, r in enumerate(replies)))
        trace.timings["generation"] = time.perf_counter() - started
        return list(attempts)


def _row_text(row: tuple) -> str:
    return "(" + ", ".join(repr(v) if isinstance(v, str) else str(v) for v in row) + ")"


def _render_foreign_keys(schema: Any) -> str:
    lines = []
    for table in schema.tables:
        for fk in table.foreign_keys:
            left = ", ".join(f"{table.name}.{c}" for c in fk.columns)
            right = ", ".join(f"{fk.ref_table}.{c}" for c in fk.ref_columns)
            lines.append(f"{left} -> {right}")
    return "\n".join(lines)
