"""``SQLExecutionFilter``: keep SQL that really runs within a time limit."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlsynth.operators.base import Operator, Reject, Row, RowOutcome, StepContext
from sqlsynth.operators.filter._common import failed_execution, sql_and_db, with_canonical_sql


class SQLExecutionFilter(Operator):
    """Reads ``SQL`` and ``db_id``; executes the SQL through the database layer's safe
    executor (read-only, row and size caps) and keeps the row when it succeeds within
    ``timeout`` seconds, its SQL in the form that was checked and run
    (``DatabaseManager.canonical_sql``, the guard's rendering). With ``drop_empty`` a query
    returning no rows is dropped too: an empty answer teaches little and often hides a wrong
    filter value.

    Reject reasons: ``empty_sql``, ``unknown_db_id``, ``forbidden``, ``syntax_error``,
    ``runtime_error``, ``timeout``, ``too_large``, and ``empty_result`` (with ``drop_empty``).
    """

    default_keys: ClassVar[dict[str, str]] = {
        "input_sql_key": "SQL",
        "input_db_id_key": "db_id",
    }

    def __init__(self, database_manager: Any, timeout: float = 5.0, *,
                 drop_empty: bool = False) -> None:
        super().__init__()
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self.database_manager = database_manager
        self.timeout = float(timeout)
        self.drop_empty = drop_empty

    def required_input_keys(self) -> list[str]:
        return [self.keys["input_sql_key"], self.keys["input_db_id_key"]]

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        checked = sql_and_db(row, self.keys["input_sql_key"], self.keys["input_db_id_key"],
                             self.database_manager)
        if isinstance(checked, Reject):
            return checked
        sql, db_id = checked
        res = await self.database_manager.aexecute(db_id, sql, timeout=self.timeout)
        if not res.ok:
            return failed_execution(res)
        if self.drop_empty and not res.rows:
            return Reject("empty_result", f"no rows ({len(res.columns)} columns)")
        return [with_canonical_sql(row, self.keys["input_sql_key"], sql, self.database_manager)]
