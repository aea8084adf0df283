"""The sampler on an awkward schema on SQLite, MariaDB and PostgreSQL: reserved and quoted
names, a composite foreign key, a self-referencing one, a view and an empty table. Every
statement passes the guard and executes, its label is its Spider level, the requested mix is
met."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlglot import exp

from sqlsynth.sampling import sample_queries
from sqlsynth.sampling.features import FEATURES, sql_features
from sqlsynth.sql.hardness import HARDNESS_LEVELS, spider_hardness
from sqlsynth.sql.parse import parse_single
from tests.sampling.conftest import AWKWARD


def test_awkward_schema_on_every_engine(awkward_manager):
    queries = asyncio.run(sample_queries(awkward_manager, AWKWARD, num=24, seed=5))
    assert len(queries) >= 14
    dialect = awkward_manager.dialect
    for q in queries:
        assert awkward_manager.guard(q.sql).allowed, q.sql
        res = awkward_manager.execute(AWKWARD, q.sql)
        assert res.ok and res.rows, (q.sql, res.error)
        assert spider_hardness(q.sql, dialect) == q.hardness, q.sql
        for agg in parse_single(q.sql, dialect).find_all(exp.Avg, exp.Sum):
            named = {c.name.lower() for c in agg.find_all(exp.Column)}
            assert not named & {"order id", "line no", "id", "manager_id"}, q.sql  # keys
    levels = Counter(q.hardness for q in queries)
    assert all(levels[level] >= 3 for level in HARDNESS_LEVELS), levels
    assert "empty table" not in " ".join(q.sql for q in queries)


def test_sql_features_read_off_the_tree():
    cases = {
        "SELECT T1.a FROM t AS T1 JOIN t AS T2 ON T1.p = T2.q GROUP BY T1.a "
        "HAVING COUNT(*) > 1 ORDER BY T1.a LIMIT 3":
            {"join", "self_join", "aggregate", "group_by", "having", "order_by", "limit"},
        "SELECT a FROM t AS T1 WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.x = T1.a)":
            {"exists", "correlated"},
        "SELECT a FROM t WHERE b > (SELECT AVG(b) FROM t)": {"aggregate", "scalar_subquery"},
        "SELECT COUNT(DISTINCT a) FROM t WHERE c LIKE 'x%' AND d BETWEEN 1 AND 2 "
        "AND e IN (1, 2) AND f IS NULL":
            {"aggregate", "distinct", "like", "between", "in_list", "is_null"},
        "SELECT a FROM t WHERE b NOT IN (SELECT c FROM u) UNION SELECT a FROM v":
            {"subquery_not_in", "set_operation"},
        "SELECT SUM(CASE WHEN b > 1 THEN 1 ELSE 0 END) FROM t": {"aggregate", "case"},
    }
    for sql, expected in cases.items():
        assert set(sql_features(sql)) == expected, sql
    assert set(FEATURES) >= set().union(*cases.values())
    assert sql_features("SELEC nothing") == ()


def test_identifier_columns_are_keys_without_constraints():
    from sqlsynth.db.schema import Column, Schema, Table
    from sqlsynth.sampling import SchemaGraph

    view = Table("big orders", [Column("order id", "INTEGER"), Column("CustomerID", "INT"),
                                Column("paid", "INTEGER"), Column("Total Amount", "NUMERIC")])
    roles = {c.column: c.role for c in SchemaGraph.from_schema(Schema("d", [view])).tables[
        "big orders"]}
    assert roles == {"order id": "key", "CustomerID": "key", "paid": "number",
                     "Total Amount": "number"}
