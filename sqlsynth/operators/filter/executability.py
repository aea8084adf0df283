"""``SQLExecutabilityFilter``: keep SQL the engine can plan, without running it."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from sqlsynth.operators.base import Operator, Reject, Row, RowOutcome, StepContext
from sqlsynth.operators.helpers import failed_execution, sql_and_db, with_canonical_sql

if TYPE_CHECKING:
    from sqlsynth.db.protocol import Database


class SQLExecutabilityFilter(Operator):
    """Keeps SQL the engine can plan, without running it.

    Keeps the row when the SQL is one read-only SELECT/WITH statement that the engine's EXPLAIN
    accepts (names, types, syntax), so bad SQL is dropped without paying for its execution.

    Input columns:
        - SQL (str): the query (``input_sql_key``, default ``SQL``).
        - db_id (str): its database (``input_db_id_key``, default ``db_id``).
    Output columns:
        - SQL (str): the kept row's SQL in the form that was checked and run
          (``DatabaseManager.canonical_sql``, the guard's rendering); nothing else changes.
    Reject reasons:
        - ``empty_sql``: ``SQL`` holds no SQL.
        - ``unknown_db_id``: no such database.
        - ``forbidden``: not a single read-only query.
        - ``syntax_error``: the engine cannot parse it.
        - ``runtime_error``: unknown table/column, type errors.
        - ``timeout``: planning itself hangs.
        - ``too_large``: the database layer's size cap (any failed EXPLAIN status maps through
          ``STATUS_REASONS``).
    Example:
        >>> op = SQLExecutabilityFilter(database_manager=db)
        >>> op.run(storage=storage.step(), input_sql_key="SQL", input_db_id_key="db_id")
    """

    default_keys: ClassVar[dict[str, str]] = {
        "input_sql_key": "SQL",
        "input_db_id_key": "db_id",
    }

    def __init__(self, database_manager: Database) -> None:
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
