"""The SQL sampler on every engine: SQLite, MariaDB and PostgreSQL render and run its SQL."""

from __future__ import annotations

import asyncio
import collections

from sqlsynth.db.guard import check_read_only
from sqlsynth.sampling import sample_queries


def test_sampled_sql_passes_the_guard_and_returns_rows_on_each_engine(manager,
                                                                      engine_kind: str) -> None:
    dialect = manager.dialect
    levels: collections.Counter[str] = collections.Counter()
    for db_id in manager.list_databases():
        queries = asyncio.run(sample_queries(manager, db_id, num=12, seed=5))
        assert queries, f"nothing sampled from {db_id} on {engine_kind}"
        for query in queries:
            assert check_read_only(query.sql, dialect).allowed, query.sql
            result = asyncio.run(manager.aexecute(db_id, query.sql))
            assert result.ok and result.rows, (engine_kind, query.sql, result.error)
            levels[query.hardness] += 1
    assert len(levels) >= 3, levels
    again = asyncio.run(sample_queries(manager, manager.list_databases()[0], num=6, seed=5))
    first = asyncio.run(sample_queries(manager, manager.list_databases()[0], num=6, seed=5))
    assert [q.sql for q in again] == [q.sql for q in first]
