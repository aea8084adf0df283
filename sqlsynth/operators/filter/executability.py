"""``SQLExecutabilityFilter``: keep SQL the engine can plan, without running it."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlsynth.operators.base import Operator, Reject, Row, RowOutcome, StepContext
from sqlsynth.operators.filter._common import failed_execution, sql_and_db, with_canonical_sql


class SQLExecutabilityFilter(Operator):
    """Reads ``SQL`` and ``db_id``; keeps the row when the SQL is one read-only
    SELECT/WITH statement that the engine's EXPLAIN accepts (names, types, syntax), so bad SQL
    is dropped without paying for its execution. The kept row's SQL is the form that was
    checked and run (``DatabaseManager.canonical_sql``, the guard's rendering).

    Reject reasons: ``empty_sql``, ``unknown_db_id``, ``forbidden`` (not a single read-only
    query), ``syntax_error``, ``runtime_error`` (unknown table/column, type errors), and
    ``timeout`` if planning itself hangs.
    """

    default_keys: ClassVar[dict[str, str]] = {
        "input_sql_key": "SQL",
        "input_db_id_key": "db_id",
    }

    def __init__(self, database_manager: Any) -> None:
        super().__init__()
        self.database_manager = database_manager

    def required_input_keys(self) -> list[str]:
        return [self.keys["input_sql_key"], self.keys["input_db_id_key"]]

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        checked = sql_and_db(row, self.keys["input_sql_key"], self.keys["input_db_id_key"],
                             self.database_manager)
        if isinstance(checked, Reject):
            return checked
        sql, db_id = checked
        res = await self.database_manager.aexplain(db_id, sql)
        if not res.ok:
            return failed_execution(res)
        return [with_canonical_sql(row, self.keys["input_sql_key"], sql, self.database_manager)]
