"""Values the database stores, read once per table through the guarded executor.

Filters built from stored values make queries whose results are rarely empty; values taken
from one row of a table satisfy any conjunction of equalities on that table. Rows are read in
primary-key order where there is one, so a run and its rerun see the same values.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlglot import exp

from sqlsynth.db.protocol import Database
from sqlsynth.sampling.graph import SchemaGraph
from sqlsynth.sampling.render import column, render, table

ROWS_PER_TABLE = 64


class StoredValues:
    """Sampled rows per (database, table), fetched on first use and kept for the run."""

    def __init__(self, database_manager: Database, rows_per_table: int = ROWS_PER_TABLE) -> None:
        self.database_manager = database_manager
        self.rows_per_table = rows_per_table
        self._rows: dict[tuple[str, str], list[dict[str, object]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def sample_sql(self, graph: SchemaGraph, table_name: str, primary_key: Sequence[str]) -> str:
        dialect = self.database_manager.dialect
        names = [c.name for c in graph.columns[table_name]]
        query = exp.select(*(column(n, None, dialect) for n in names)).from_(
            table(table_name, None, dialect))
        if primary_key:
            query = query.order_by(*(column(k, None, dialect) for k in primary_key))
        return render(query.limit(self.rows_per_table), dialect)

    async def load(self, graph: SchemaGraph) -> None:
        """Read every table's sample rows (once per database, however many callers wait)."""
        lock = self._locks.setdefault(graph.db_id, asyncio.Lock())
        async with lock:
            todo = [t for t in graph.tables if (graph.db_id, t) not in self._rows]
            if not todo:
                return
            sqls = [self.sample_sql(graph, t, graph.primary_keys.get(t, [])) for t in todo]
            results = await asyncio.gather(
                *(self.database_manager.aexecute(graph.db_id, sql) for sql in sqls))
            for name, res in zip(todo, results):
                # keyed by the schema's column names (drivers may report other spellings)
                names = [c.name for c in graph.columns[name]]
                self._rows[(graph.db_id, name)] = (
                    [dict(zip(names, r)) for r in res.rows] if res.ok else [])

    def rows(self, db_id: str, table_name: str) -> list[dict[str, object]]:
        return self._rows.get((db_id, table_name), [])

    def values(self, db_id: str, table_name: str, column_name: str) -> list[object]:
        """Distinct non-NULL stored values of one column, in first-seen order."""
        seen: dict[object, None] = {}
        for row in self.rows(db_id, table_name):
            value = row.get(column_name)
            if value is not None and _hashable(value):
                seen.setdefault(value, None)
        return list(seen)

    def has_nulls(self, db_id: str, table_name: str, column_name: str) -> bool:
        return any(row.get(column_name) is None for row in self.rows(db_id, table_name))


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
