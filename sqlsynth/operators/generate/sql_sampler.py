"""``SQLSampler``: SQL written from each database alone, with no model, at a requested mix of
Spider hardness levels."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from sqlsynth.operators.base import Operator, Reject, Row, RowOutcome, StepContext
from sqlsynth.operators.helpers import database_slots, sql_dedup_key
from sqlsynth.sampling.sampler import DatabaseSampler, level_schedule
from sqlsynth.sql import sql_template
from sqlsynth.sql.hardness import HARDNESS_LEVELS

if TYPE_CHECKING:
    from sqlsynth.db.protocol import Database

_log = logging.getLogger(__name__)

#: the row column that carries the canonical texts written with the SQL
CANONICAL_KEY = "canonical"


class SQLSampler(Operator):
    """Source step: ``generate_num`` sampled SELECT queries per selected database.

    The drop-in for ``SQLGenerator`` when there is no endpoint, or beside it (``sql_source =
    "mixed"``): joins follow the schema's foreign keys, filters use values the database stores
    (probed through the guarded executor), and Spider's hardness grader steers each slot to its
    level of ``hardness_mix`` (even by default; a database too small for a level gives its
    closest one, labelled truthfully). Each row also carries the canonical question, evidence
    and reasoning written with the SQL (``canonical``), which ``CanonicalQuestionGenerator``
    and ``CanonicalCoTGenerator`` use. Pure in (run seed, ``seed``, row): a rerun writes the
    same SQL.

    Input columns:
        - none: a source step; its seed rows are ``{db_id, slot}`` from ``plan_sources``.
    Output columns:
        - SQL (str): the sampled query (``output_sql_key``, default ``SQL``).
        - db_id (str): its database (``output_db_id_key``, default ``db_id``).
        - sql_complexity_type (str): its Spider hardness, easy / medium / hard / extra
          (``output_sql_complexity_key``).
        - sql_source (str): ``"grammar"``; sql_features (list[str]): the constructs it uses;
          canonical (dict): ``question``, ``evidence``, ``reasoning``.
    Reject reasons:
        - ``unknown_db_id``: the seed row's database does not exist.
        - ``schema_error``: the database's schema cannot be read.
        - ``no_sampled_sql``: nothing executable with rows could be built for the slot.
        - ``duplicate`` (by the runner): the same query by meaning as an earlier row.
    Example:
        >>> op = SQLSampler(database_manager=db, generate_num=20)
        >>> op.run(storage=storage.step(), output_sql_key="SQL", output_db_id_key="db_id")
    """

    default_keys: ClassVar[dict[str, str]] = {
        "output_sql_key": "SQL",
        "output_db_id_key": "db_id",
        "output_sql_complexity_key": "sql_complexity_type",
    }

    def __init__(self, database_manager: Database, generate_num: int, *, seed: int = 42,
                 hardness_mix: Mapping[str, float] | None = None,
                 dedup_by_meaning: bool = True) -> None:
        super().__init__()
        if generate_num < 0:
            raise ValueError(f"generate_num must be >= 0, got {generate_num}")
        self.database_manager = database_manager
        self.generate_num = generate_num
        self.seed = seed
        self.hardness_mix = dict(hardness_mix) if hardness_mix else None
        self.schedule = level_schedule(generate_num, self.hardness_mix)
        self.dedup_by_meaning = dedup_by_meaning
        self._samplers: dict[str, DatabaseSampler] = {}
        #: levels and features of the queries written, for the run's log line (``report``)
        self._levels: Counter[str] = Counter()
        self._features: Counter[str] = Counter()

    @property
    def dialect(self) -> str:
        return getattr(self.database_manager, "dialect", "sqlite")

    def plan_sources(self, ctx: StepContext) -> list[Row]:
        return [{**seed, "level": self.schedule[seed["slot"]]}
                for seed in database_slots(self.database_manager, self.generate_num,
                                           "sample SQL from")]

    def dedup_key(self, row: Row) -> Hashable | None:
        return sql_dedup_key(row, self.keys["output_sql_key"], self.keys["output_db_id_key"], self.dialect,
                             by_meaning=self.dedup_by_meaning, literal_form=sql_template)

    def sampler_for(self, db_id: str) -> DatabaseSampler:
        if db_id not in self._samplers:
            self._samplers[db_id] = DatabaseSampler(self.database_manager, db_id)
        return self._samplers[db_id]

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        db_id = row.get("db_id")
        if not isinstance(db_id, str) or not self.database_manager.database_exists(db_id):
            return Reject("unknown_db_id", f"field 'db_id': no database {db_id!r}")
        try:
            sampler = self.sampler_for(db_id)
        except Exception as exc:  # noqa: BLE001 - a broken database rejects its rows only
            return Reject("schema_error", f"db_id {db_id!r}: {type(exc).__name__}: {exc}")
        level = str(row.get("level") or self.schedule[int(row.get("slot", 0)) % len(self.schedule)])
        query = await sampler.sample(level, ctx.rng_for(row, salt=f"sampler seed={self.seed}"))
        if query is None:
            return Reject("no_sampled_sql", f"db_id {db_id!r}: no executable {level} query "
                                            "with rows after the sampler's attempts")
        self._levels[query.hardness] += 1
        self._features.update(query.features)
        out: dict[str, Any] = {
            self.keys["output_sql_key"]: query.sql,
            self.keys["output_db_id_key"]: db_id,
            self.keys["output_sql_complexity_key"]: query.hardness,
            "sql_source": "grammar",
            "sql_features": list(query.features),
            CANONICAL_KEY: {"question": query.question, "evidence": query.evidence,
                            "reasoning": query.reasoning},
        }
        return [out]

    def report(self) -> dict[str, Any]:
        """Levels and features of the queries written (before the runner's deduplication)."""
        return {"hardness": {level: self._levels[level] for level in HARDNESS_LEVELS},
                "features": dict(sorted(self._features.items()))}

    async def aclose(self) -> None:
        if self._levels:
            report = self.report()
            _log.info("SQLSampler: hardness %s; features %s", report["hardness"],
                      report["features"])
        await super().aclose()
