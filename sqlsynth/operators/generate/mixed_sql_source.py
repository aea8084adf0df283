"""``MixedSQLSource``: grammar-sampled and LLM-written SQL in one source step."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, ClassVar

from sqlsynth.operators.base import Operator, Row, RowOutcome, StepContext

#: which stream wrote the row's SQL
SQL_SOURCE = "sql_source"


class MixedSQLSource(Operator):
    """Source step of ``sql_source = "mixed"``: both streams, deduplicated by meaning.

    Each database's ``generate_num`` slots are split between a ``SQLSampler`` (the first half,
    rounded up) and a ``SQLGenerator`` (the rest; give it ``examples_per_prompt`` so the model
    sees sampled SQL of its drawn level). One seed row per slot says which stream answers it,
    so resume and dedup work as for either alone: the runner keeps the first of the rows whose
    ``dedup_key`` (database, ``sql_meaning_key``) is equal, whichever stream wrote them.

    Input columns:
        - none: a source step.
    Output columns:
        - SQL, db_id, sql_complexity_type: as the two streams write them
          (``output_sql_key``, ``output_db_id_key``, ``output_sql_complexity_key``).
        - sql_source (str): ``grammar`` or ``llm``.
    Reject reasons:
        - those of ``SQLSampler`` and ``SQLGenerator``; ``duplicate`` by the runner.
    Example:
        >>> MixedSQLSource(SQLSampler(db, 0), SQLGenerator(llm, db, 0), generate_num=20)
    """

    default_keys: ClassVar[dict[str, str]] = {
        "output_sql_key": "SQL",
        "output_db_id_key": "db_id",
        "output_sql_complexity_key": "sql_complexity_type",
    }

    def __init__(self, sampler: Any, generator: Any, generate_num: int) -> None:
        super().__init__()
        if generate_num < 0:
            raise ValueError(f"generate_num must be >= 0, got {generate_num}")
        self.sampler = sampler
        self.generator = generator
        self.generate_num = int(generate_num)
        self.grammar_num = (self.generate_num + 1) // 2

    def bind(self, **keys: str) -> None:
        super().bind(**keys)
        self.sampler.bind(**keys)
        self.generator.bind(**keys)

    def required_input_keys(self) -> list[str]:
        return []

    def plan_sources(self, ctx: StepContext) -> list[Row]:
        seen = self.generator.database_manager.list_databases()
        if not seen:
            self.generator.plan_sources(ctx)  # its error: there is no database to write for
        return [{"db_id": db_id, "slot": slot,
                 SQL_SOURCE: "grammar" if slot < self.grammar_num else "llm"}
                for db_id in seen for slot in range(self.generate_num)]

    def dedup_key(self, row: Row) -> Hashable | None:
        return self.generator.dedup_key(row)

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        source = row.get(SQL_SOURCE)
        seed = {"db_id": row.get("db_id"), "slot": row.get("slot")}
        stream = self.sampler if source == "grammar" else self.generator
        outcome = await stream.aprocess_row(seed, ctx)
        if isinstance(outcome, list):
            return [{**out, SQL_SOURCE: out.get(SQL_SOURCE) or source} for out in outcome]
        return outcome

    async def aclose(self) -> None:
        await self.sampler.aclose()
        await self.generator.aclose()
