"""Sampling SQL of a wanted Spider hardness from one database, deterministically.

Plans are drawn with level-specific odds (subqueries and set operations for hard and extra,
single-table lookups for easy), filled from the database (``QueryBuilder``), rendered by
sqlglot in the database's dialect, graded by the same Spider hardness function the
``SQLComponentClassifier`` uses, and executed through the guarded ``DatabaseManager``. A
candidate is kept only when its level is the wanted one and it returns rows; after
``MAX_ATTEMPTS`` the closest executable candidate is kept with its true level, so a database
too small for "extra" still yields rows and says what they are.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlglot

from sqlsynth.sampling.builder import SET_OPERATIONS, Built, Plan, QueryBuilder
from sqlsynth.sampling.graph import SchemaGraph
from sqlsynth.sampling.values import StoredValues
from sqlsynth.sql.hardness import HARDNESS_LEVELS, spider_hardness

if TYPE_CHECKING:
    from sqlsynth.db.protocol import Database

#: candidates tried for one slot before settling for the closest level
MAX_ATTEMPTS = 60


@dataclass(frozen=True)
class SampledQuery:
    """A sampled statement that passed the guard and returned rows, with its canonical texts."""

    sql: str
    hardness: str
    features: tuple[str, ...]
    question: str = ""
    evidence: str = ""
    reasoning: str = ""


def level_schedule(num: int, mix: Mapping[str, float] | None = None) -> list[str]:
    """``num`` levels in the proportions of ``mix`` (even by default), interleaved.

    Largest-remainder apportionment, then round-robin order, so any prefix of a run is as
    close to the mix as it can be and the mix is met exactly over the whole run.
    """
    weights = {level: float((mix or {}).get(level, 0 if mix else 1)) for level in HARDNESS_LEVELS}
    unknown = sorted(set(mix or {}) - set(HARDNESS_LEVELS))
    if unknown or any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ValueError(f"hardness_mix needs non-negative weights over {HARDNESS_LEVELS}, "
                         f"got {dict(mix or {})}")
    total = sum(weights.values())
    exact = {level: num * w / total for level, w in weights.items()}
    counts = {level: int(v) for level, v in exact.items()}
    for level in sorted(exact, key=lambda lv: exact[lv] - counts[lv], reverse=True):
        if sum(counts.values()) >= num:
            break
        counts[level] += 1
    schedule: list[str] = []
    while len(schedule) < num:
        for level in HARDNESS_LEVELS:
            if counts[level]:
                schedule.append(level)
                counts[level] -= 1
    return schedule


def draw_plan(level: str, rng: random.Random) -> Plan:
    """A plan likely (not certain: the grader decides) to land on ``level``."""
    if level == "easy":
        return Plan(select=rng.choice(["column", "count", "aggregate", "distinct"]),
                    conditions=rng.choice([0, 1, 1]))
    if level == "medium":
        shape = rng.choice(["join", "group", "columns", "limit", "case"])
        return Plan(select=rng.choice(["column", "count", "aggregate"]) if shape == "join"
                    else "group" if shape == "group" else "case" if shape == "case"
                    else "columns" if shape == "columns" else "column",
                    join=shape == "join", conditions=1 if shape in ("join", "columns") else 0,
                    order="DESC" if shape == "limit" else None,
                    limit=rng.choice([1, 3, 5]) if shape == "limit" else None)
    if level == "hard":
        shape = rng.choice(["subquery", "subquery", "set", "join_order"])
        if shape == "set":
            return Plan(set_operation=rng.choice(SET_OPERATIONS))
        if shape == "subquery":
            return Plan(select=rng.choice(["column", "count"]),
                        subquery=rng.choice(["scalar", "in", "not_in", "exists", "not_exists"]))
        return Plan(select="column", join=True, conditions=1,
                    order=rng.choice(["ASC", "DESC"]), limit=rng.choice([1, 3, 5]))
    shape = rng.choice(["subquery_join", "group_having", "many", "set_group"])
    if shape == "subquery_join":
        return Plan(select=rng.choice(["column", "columns"]), join=True, conditions=1,
                    subquery=rng.choice(["scalar", "in", "exists", "not_exists"]))
    if shape == "group_having":
        return Plan(select="group", join=rng.random() < 0.5, conditions=1, having=True,
                    order="DESC", limit=rng.choice([1, 3]))
    if shape == "many":
        return Plan(select="columns", join=True, conditions=2,
                    connector=rng.choice(["AND", "OR"]), order="DESC", limit=5)
    return Plan(select="columns", conditions=2, subquery="scalar")


class DatabaseSampler:
    """Samples queries from one database; keeps its graph and stored values between calls."""

    def __init__(self, database_manager: Database, db_id: str) -> None:
        self.database_manager = database_manager
        self.db_id = db_id
        self.dialect = getattr(database_manager, "dialect", "sqlite")
        schema = database_manager.get_schema(db_id)
        self.graph = SchemaGraph.from_schema(schema)
        self.values = StoredValues(database_manager)
        self.builder = QueryBuilder(self.graph, self.values, db_id, self.dialect)

    def render(self, built: Built) -> Built | None:
        """The statement as sqlglot writes it in this dialect (None when it cannot)."""
        try:
            rendered = sqlglot.parse_one(built.sql, read=self.dialect).sql(dialect=self.dialect)
        except sqlglot.errors.SqlglotError:
            return None
        return Built(rendered, built.question, built.evidence,
                     built.reasoning.replace(built.sql, rendered), built.features)

    async def sample(self, level: str, rng: random.Random) -> SampledQuery | None:
        """One executable query of ``level``, else the closest executable one, else None."""
        fallback: SampledQuery | None = None
        for _ in range(MAX_ATTEMPTS):
            built = await self.builder.build(draw_plan(level, rng), rng)
            built = self.render(built) if built is not None else None
            if built is None:
                continue
            graded = _graded(built.sql, self.dialect)
            if graded is None:
                continue
            if graded != level and fallback is not None:
                continue
            result = await self.database_manager.aexecute(self.db_id, built.sql)
            if not result.ok or not result.rows or result.truncated or all(
                    v is None for row in result.rows for v in row):
                continue
            query = SampledQuery(built.sql, graded, built.features, built.question,
                                 built.evidence, built.reasoning)
            if graded == level:
                return query
            fallback = fallback or query
        return fallback


def _graded(sql: str, dialect: str) -> str | None:
    """Spider's level, or None for SQL outside Spider's grammar (it gets no label)."""
    try:
        return spider_hardness(sql, dialect)
    except Exception:  # noqa: BLE001 - the grader's parser rejects what it cannot count
        return None


async def sample_queries(database_manager: Database, db_id: str, *, num: int, seed: int = 42,
                         hardness_mix: Mapping[str, float] | None = None
                         ) -> list[SampledQuery]:
    """``num`` sampled queries of one database in the requested hardness mix (distinct SQL)."""
    sampler = DatabaseSampler(database_manager, db_id)
    found: list[SampledQuery] = []
    seen: set[str] = set()
    for slot, level in enumerate(level_schedule(num, hardness_mix)):
        rng = random.Random(f"{seed}:{db_id}:{slot}")
        query = await sampler.sample(level, rng)
        if query is not None and query.sql not in seen:
            seen.add(query.sql)
            found.append(query)
    return found
