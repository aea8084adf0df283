"""``SampledVariationGenerator``: refine's grammar variations, sampled from the row's database."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, ClassVar

from sqlsynth.operators.base import Operator, Row, RowOutcome, StepContext
from sqlsynth.operators.generate.mixed_sql_source import SQL_SOURCE
from sqlsynth.operators.generate.sql_variation_generator import SQL_BOUND_FIELDS
from sqlsynth.operators.helpers import sql_dedup_key
from sqlsynth.source_fields import consistent_source_fields
from sqlsynth.sql import HARDNESS_LEVELS, spider_hardness

if TYPE_CHECKING:
    from sqlsynth.db.protocol import Database

#: ``sql_variation_type`` of a sampled variation
SAMPLED = "grammar_sample"


class SampledVariationGenerator(Operator):
    """Adds, after each input row, ``num_variations`` queries sampled from its database at the
    Spider hardness of its SQL (``sqlsynth.sampling.sample_queries``): refine's
    ``sql_source = "grammar"`` / ``"mixed"``, with no model.

    The sampler does not rewrite the row's SQL (that is ``SQLVariationGenerator``'s job); it
    writes new queries of the same hardness over the same database, each already guarded and
    executed, deterministic per (run seed, row). Rows that are themselves variations (their
    ``sql_variation_type`` set, e.g. by an LLM variation step before this one) pass unchanged,
    so the two steps together do not multiply.

    Input columns:
        - SQL (str): ``input_sql_key``; db_id (str): ``input_db_id_key``;
          sql_variation_type (optional).
    Output columns:
        - the input row, then one row per sampled query: the row's fields that do not describe
          its SQL, the new ``SQL``, ``sql_variation_type`` ``grammar_sample``
          (``output_sql_variation_type_key``), ``sql_source`` ``grammar``.
    Reject reasons:
        - none (a database the sampler finds nothing in adds no variation); ``duplicate`` by
          the runner.
    Example:
        >>> SampledVariationGenerator(db, num_variations=3).run(storage=storage.step())
    """

    default_keys: ClassVar[dict[str, str]] = {
        "input_sql_key": "SQL",
        "input_db_id_key": "db_id",
        "output_sql_variation_type_key": "sql_variation_type",
    }

    def __init__(self, database_manager: Database, num_variations: int = 5, *, seed: int = 42,
                 dedup_by_meaning: bool = True) -> None:
        super().__init__()
        if num_variations < 0:
            raise ValueError(f"num_variations must be >= 0, got {num_variations}")
        self.database_manager = database_manager
        self.num_variations = int(num_variations)
        self.seed = int(seed)
        self.dedup_by_meaning = dedup_by_meaning

    @property
    def dialect(self) -> str:
        return getattr(self.database_manager, "dialect", "sqlite")

    def dedup_key(self, row: Row) -> Hashable | None:
        return sql_dedup_key(row, self.keys["input_sql_key"], self.keys["input_db_id_key"], self.dialect,
                             by_meaning=self.dedup_by_meaning)

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        from sqlsynth.sampling import sample_queries

        sql_key, db_key = self.keys["input_sql_key"], self.keys["input_db_id_key"]
        type_key = self.keys["output_sql_variation_type_key"]
        if row.get(type_key) or not self.num_variations:
            return [row]
        sql, db_id = str(row[sql_key]), str(row[db_key])
        try:
            level = spider_hardness(sql, self.dialect)
        except Exception:  # noqa: BLE001 - SQL Spider's grammar cannot read: any level
            level = "medium"
        mix = {level: 1.0} if level in HARDNESS_LEVELS else None
        seed = ctx.rng_for(row, salt=f"sampled-variation:{self.seed}").randrange(2**31 - 1)
        sampled = await sample_queries(self.database_manager, db_id, num=self.num_variations,
                                       seed=seed, hardness_mix=mix)
        base = {k: v for k, v in row.items() if k not in SQL_BOUND_FIELDS}
        out: list[Row] = [{**row, type_key: row.get(type_key)}]
        for query in sampled:
            out.append(consistent_source_fields(
                {**base, sql_key: query.sql, type_key: SAMPLED, SQL_SOURCE: "grammar"},
                sql_key=sql_key, new_sql=True))
        return out
