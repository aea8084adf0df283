"""Values the database really stores, fetched through the guarded executor and cached.

Filters written from stored values select rows, so sampled SQL rarely comes back empty. The
probes are ordinary read-only SELECTs sent through the ``DatabaseManager`` (guard, sandbox,
deadline, row cap) like any other statement; a column whose probe fails offers no values.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlsynth.db.schema import quote_ident

if TYPE_CHECKING:
    from sqlsynth.db.protocol import Database
    from sqlsynth.sampling.graph import ColumnRef

#: distinct values kept per column: enough variety, bounded memory and probe time
VALUES_PER_COLUMN = 40
#: stored text longer than this makes a poor literal in a question
MAX_VALUE_CHARS = 60


class StoredValues:
    """Distinct non-null values (sorted, so every engine and run sees the same list) and
    whether a column holds NULLs, per (database, table, column)."""

    def __init__(self, database_manager: Database, *, timeout: float | None = None) -> None:
        self.database_manager = database_manager
        self.timeout = timeout
        self._values: dict[tuple[str, str, str], list[Any]] = {}
        self._nulls: dict[tuple[str, str, str], bool] = {}
        self._counts: dict[tuple[str, str], int] = {}

    @property
    def dialect(self) -> str:
        return getattr(self.database_manager, "dialect", "sqlite")

    def _ident(self, name: str) -> str:
        return quote_ident(name, self.dialect, always=True)

    async def _rows(self, db_id: str, sql: str) -> list[tuple] | None:
        result = await self.database_manager.aexecute(db_id, sql, timeout=self.timeout,
                                                      max_rows=VALUES_PER_COLUMN)
        return list(result.rows) if result.ok else None

    async def values(self, db_id: str, col: ColumnRef) -> list[Any]:
        key = (db_id, col.table, col.column)
        if key not in self._values:
            c, t = self._ident(col.column), self._ident(col.table)
            rows = await self._rows(db_id, f"SELECT DISTINCT {c} FROM {t} WHERE {c} IS NOT NULL "
                                           f"ORDER BY {c} LIMIT {VALUES_PER_COLUMN}")
            plain = (_plain(r[0]) for r in rows or ())
            self._values[key] = [v for v in plain if _usable(v)]
        return self._values[key]

    async def has_nulls(self, db_id: str, col: ColumnRef) -> bool:
        key = (db_id, col.table, col.column)
        if key not in self._nulls:
            c, t = self._ident(col.column), self._ident(col.table)
            rows = await self._rows(db_id, f"SELECT 1 FROM {t} WHERE {c} IS NULL LIMIT 1")
            self._nulls[key] = bool(rows)
        return self._nulls[key]

    async def row_count(self, db_id: str, table: str) -> int:
        key = (db_id, table)
        if key not in self._counts:
            rows = await self._rows(db_id, f"SELECT COUNT(*) FROM {self._ident(table)}")
            self._counts[key] = int(rows[0][0]) if rows and rows[0][0] is not None else 0
        return self._counts[key]


_AWKWARD_TEXT = re.compile(r"[\n\r\t{}\[\]<>$`\"\\]|_{2,}|\.\.\.|\?\?|%")


def _plain(value: Any) -> Any:
    """Driver types as plain literals: PostgreSQL ``numeric`` and dates, MySQL dates."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat(sep=" ") if isinstance(value, _dt.datetime) else value.isoformat()
    return value


def _usable(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return not (isinstance(value, float) and math.isnan(value))
    if isinstance(value, str):
        # brackets, dollars and backticks read as template slots or code in a question
        return (0 < len(value) <= MAX_VALUE_CHARS and value.strip() == value
                and not _AWKWARD_TEXT.search(value))
    return False
