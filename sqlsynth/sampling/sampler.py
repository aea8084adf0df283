"""Sample SQL of a wanted hardness from one database: build, measure, execute, keep.

Each candidate is built by ``QueryBuilder``, rendered in the database's dialect, labelled with
Spider's hardness (``sqlsynth.sql.hardness``, the function ``SQLComponentClassifier`` uses) and
kept only at the wanted level; then it runs through the database manager (guard and sandboxed
execution). A candidate whose result has rows is taken at once; one that runs but returns
nothing (or only NULLs, or too many rows) is kept only as the last resort, because the
pipeline's ``SQLExecutionFilter`` drops such results downstream.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Mapping
from dataclasses import dataclass

from sqlsynth.db.protocol import Database
from sqlsynth.db.result import ExecResult
from sqlsynth.sampling.builder import QueryBuilder, Unbuildable, draw_recipe
from sqlsynth.sampling.features import features_of
from sqlsynth.sampling.graph import SchemaGraph, build_graph
from sqlsynth.sampling.mix import level_plan
from sqlsynth.sampling.render import render
from sqlsynth.sampling.values import StoredValues
from sqlsynth.sql import SQLParseError, sql_meaning_key
from sqlsynth.sql.hardness import spider_hardness

#: candidates built per query before giving up on its level (building one costs ~1 ms)
MAX_BUILDS = 120
#: candidates executed per query before settling for a result without rows
MAX_EXECUTIONS = 6


@dataclass(frozen=True)
class SampledQuery:
    """One sampled statement: it passed the guard and executed on its database."""

    sql: str
    hardness: str
    features: tuple[str, ...]


def _useful(result: ExecResult) -> bool:
    return bool(result.rows) and not result.truncated and any(
        v is not None for row in result.rows for v in row)


class QuerySampler:
    """Samples queries from the databases of one manager; schema graphs and stored values
    are read once per database and shared by every query."""

    def __init__(self, database_manager: Database, *, max_builds: int = MAX_BUILDS,
                 max_executions: int = MAX_EXECUTIONS) -> None:
        self.database_manager = database_manager
        self.values = StoredValues(database_manager)
        self.max_builds = max_builds
        self.max_executions = max_executions
        self._graphs: dict[str, SchemaGraph] = {}

    @property
    def dialect(self) -> str:
        return getattr(self.database_manager, "dialect", "sqlite")

    async def graph(self, db_id: str) -> SchemaGraph:
        if db_id not in self._graphs:
            schema = await asyncio.to_thread(self.database_manager.get_schema, db_id)
            self._graphs[db_id] = build_graph(schema)
        graph = self._graphs[db_id]
        await self.values.load(graph)
        return graph

    async def sample_one(self, db_id: str, level: str, rng: random.Random,
                         avoid: frozenset[str] | set[str] = frozenset()) -> SampledQuery | None:
        """A query of ``level`` that executed, or None when ``max_builds`` candidates gave
        none; ``avoid``: meaning keys (``sql_meaning_key``) not to return again."""
        graph = await self.graph(db_id)
        dialect = self.dialect
        fallback: SampledQuery | None = None
        tried: set[str] = set()
        executions = 0
        for _ in range(self.max_builds):
            builder = QueryBuilder(graph, self.values, dialect, rng)
            try:
                tree = builder.build(draw_recipe(level, rng))
            except Unbuildable:
                continue
            sql = render(tree, dialect)
            if sql in tried:
                continue
            tried.add(sql)
            try:
                if spider_hardness(sql, dialect) != level:
                    continue
            except SQLParseError:
                continue
            if avoid and sql_meaning_key(sql, dialect) in avoid:
                continue
            result = await self.database_manager.aexecute(db_id, sql)
            executions += 1
            if result.ok:
                query = SampledQuery(sql, level, features_of(tree))
                if _useful(result):
                    return query
                fallback = fallback or query
            if executions >= self.max_executions:
                break
        return fallback


def _rng(*parts: object) -> random.Random:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


async def asample_queries(database_manager: Database, db_id: str, *, num: int, seed: int = 42,
                          hardness_mix: Mapping[str, float] | None = None,
                          sampler: QuerySampler | None = None) -> list[SampledQuery]:
    """``num`` distinct queries (by meaning) over ``db_id`` whose levels follow
    ``hardness_mix``; fewer when the database cannot give that many of a level."""
    sampler = sampler or QuerySampler(database_manager)
    plan = level_plan(num, hardness_mix, _rng("levels", seed, db_id))
    seen: set[str] = set()
    out: list[SampledQuery] = []
    for index, level in enumerate(plan):
        query = await sampler.sample_one(db_id, level, _rng("query", seed, db_id, index), seen)
        if query is not None:
            seen.add(sql_meaning_key(query.sql, sampler.dialect))
            out.append(query)
    return out


def sample_queries(database_manager: Database, db_id: str, *, num: int, seed: int = 42,
                   hardness_mix: Mapping[str, float] | None = None) -> list[SampledQuery]:
    """``asample_queries`` for callers without an event loop (examples, bench, refine)."""
    return asyncio.run(asample_queries(database_manager, db_id, num=num, seed=seed,
                                       hardness_mix=hardness_mix))
