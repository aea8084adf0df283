"""``SQLSampler``: SELECT queries sampled from each database's schema graph, no LLM."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from sqlsynth.operators.base import Operator, Reject, Row, RowOutcome, StepContext
from sqlsynth.sampling.features import FEATURES
from sqlsynth.sampling.mix import level_plan, normalize_mix
from sqlsynth.sampling.sampler import QuerySampler
from sqlsynth.sql import sql_meaning_key, sql_template
from sqlsynth.sql.hardness import HARDNESS_LEVELS

if TYPE_CHECKING:
    from sqlsynth.db.protocol import Database

_log = logging.getLogger(__name__)


class SQLSampler(Operator):
    """Source step: samples ``generate_num`` SELECT queries per database from its schema.

    The grammar path of SQL synthesis (after Overnight and GAZP): joins follow primary and
    foreign keys (composite keys, self-joins), columns are used as their type and role allow
    (numbers summed and compared, text matched with LIKE, keys joined but never averaged) and
    filter values are ones the database stores, read through the guarded executor. Each slot
    is given a Spider hardness level so that a database's ``generate_num`` slots follow
    ``hardness_mix`` (dict level -> weight over easy/medium/hard/extra; None = even) exactly;
    candidates are rendered in the database's dialect, measured with ``sqlsynth.sql.hardness``
    and kept at their slot's level. Every kept statement passed the guard and executed; one
    with rows is preferred to one without. Deterministic in (run seed, ``seed``, row).

    Input columns:
        - none: a source step; its seed rows are ``{db_id, slot}`` from ``plan_sources``.
    Output columns:
        - SQL (str): the sampled query (``output_sql_key``, default ``SQL``).
        - db_id (str): its database (``output_db_id_key``, default ``db_id``).
        - sql_complexity_type (str): its Spider hardness, easy/medium/hard/extra
          (``output_sql_complexity_key``, default ``sql_complexity_type``).
        - sql_source (str): ``"grammar"``.
        - sql_features (list[str]): the constructs it uses, names from
          ``sqlsynth.sampling.FEATURES`` (join, aggregate, subquery_in, set_operation, ...).
    Reject reasons:
        - ``unknown_db_id``: the seed row's database does not exist.
        - ``schema_error``: the database's schema cannot be read.
        - ``no_sql_sampled``: no candidate of the slot's level executed (a schema too small
          for that level, e.g. one table of one column has no joins or nesting to offer).
        - ``duplicate`` (by the runner): the SQL means the same as an earlier row's of the same
          database (``sql_meaning_key``; ``sql_template`` without ``dedup_by_meaning``).
    Example:
        >>> op = SQLSampler(database_manager=db, generate_num=20, hardness_mix={"extra": 2,
        ...                 "hard": 1})
        >>> op.run(storage=storage.step(), output_sql_key="SQL", output_db_id_key="db_id")
    """

    default_keys: ClassVar[dict[str, str]] = {
        "output_sql_key": "SQL",
        "output_db_id_key": "db_id",
        "output_sql_complexity_key": "sql_complexity_type",
    }

    def __init__(
        self,
        database_manager: Database,
        generate_num: int,
        *,
        seed: int = 42,
        hardness_mix: Mapping[str, float] | None = None,
        dedup_by_meaning: bool = True,
    ) -> None:
        super().__init__()
        if generate_num < 0:
            raise ValueError(f"generate_num must be >= 0, got {generate_num}")
        self.database_manager = database_manager
        self.generate_num = generate_num
        self.seed = seed
        self.hardness_mix = normalize_mix(hardness_mix)
        self.dedup_by_meaning = dedup_by_meaning
        self.sampler = QuerySampler(database_manager)
        self._plans: dict[str, list[str]] = {}
        #: levels and features of the queries this operator wrote, for the run's log line
        self.levels: Counter[str] = Counter()
        self.features: Counter[str] = Counter()

    @property
    def dialect(self) -> str:
        return getattr(self.database_manager, "dialect", "sqlite")

    @property
    def output_columns(self) -> list[str]:
        return [*super().output_columns, "sql_source", "sql_features"]

    def plan_sources(self, ctx: StepContext) -> list[Row]:
        db_ids = self.database_manager.list_databases()
        if not db_ids:
            config = getattr(self.database_manager, "config", None) or {}
            where = config.get("root_path") or getattr(self.database_manager, "db_type", "")
            raise ValueError(f"no databases to sample from in {where}")
        return [{"db_id": db_id, "slot": slot} for db_id in db_ids for slot in range(self.generate_num)]

    def dedup_key(self, row: Row) -> Hashable | None:
        sql = row.get(self.keys["output_sql_key"])
        if not isinstance(sql, str):
            return None
        key = sql_meaning_key if self.dedup_by_meaning else sql_template
        return (row.get(self.keys["output_db_id_key"]), key(sql, self.dialect))

    def slot_level(self, db_id: str, slot: int, ctx: StepContext) -> str:
        """The level of one slot: the database's slots together follow ``hardness_mix``."""
        if db_id not in self._plans:
            rng = ctx.rng_for({"db_id": db_id}, salt=f"seed={self.seed}|levels")
            self._plans[db_id] = level_plan(self.generate_num, self.hardness_mix, rng)
        plan = self._plans[db_id]
        return plan[slot % len(plan)] if plan else HARDNESS_LEVELS[0]

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        db_id = row.get("db_id")
        if not isinstance(db_id, str) or not self.database_manager.database_exists(db_id):
            return Reject("unknown_db_id", f"field 'db_id': no database {db_id!r}")
        slot = row.get("slot")
        level = self.slot_level(db_id, slot if isinstance(slot, int) else 0, ctx)
        rng = ctx.rng_for(row, salt=f"seed={self.seed}")
        try:
            await self.sampler.graph(db_id)
        except Exception as exc:  # noqa: BLE001 - a broken database rejects its rows only
            return Reject("schema_error", f"db_id {db_id!r}: {type(exc).__name__}: {exc}")
        query = await self.sampler.sample_one(db_id, level, rng)
        if query is None:
            return Reject("no_sql_sampled", f"{db_id}: no {level} query executed in "
                                            f"{self.sampler.max_builds} candidates")
        self.levels[query.hardness] += 1
        self.features.update(query.features)
        return [{
            self.keys["output_sql_key"]: query.sql,
            self.keys["output_db_id_key"]: db_id,
            self.keys["output_sql_complexity_key"]: query.hardness,
            "sql_source": "grammar",
            "sql_features": list(query.features),
        }]

    def report(self) -> dict[str, Any]:
        """Counts of levels and features over the queries written (before deduplication)."""
        return {"hardness": {lv: self.levels[lv] for lv in HARDNESS_LEVELS},
                "features": {f: self.features[f] for f in FEATURES if self.features[f]}}

    async def aclose(self) -> None:
        if self.levels:
            report = self.report()
            _log.info("SQLSampler: hardness %s; features %s", report["hardness"],
                      report["features"])
        await super().aclose()
