"""The sampler on the bundled example databases and on an awkward schema on every engine:
each statement passes the guard and executes, levels follow the requested mix, a seed gives
the same SQL and another seed other SQL, and a run covers the SQL features."""

from __future__ import annotations

from collections import Counter

from sqlsynth.sampling import FEATURES, sample_queries, sql_features
from sqlsynth.sql.hardness import HARDNESS_LEVELS, spider_hardness
from tests.sampling.conftest import AWKWARD


def _check_executes(manager, db_id, queries):
    for q in queries:
        assert manager.guard(q.sql).allowed, q.sql
        res = manager.execute(db_id, q.sql)
        assert res.ok, (q.sql, res.error)
        assert spider_hardness(q.sql, manager.dialect) == q.hardness, q.sql
        assert q.features == sql_features(q.sql, manager.dialect), q.sql


def test_bundled_databases_even_mix_executes_and_covers_features(examples_manager):
    levels: Counter[str] = Counter()
    features: Counter[str] = Counter()
    for db_id in examples_manager.list_databases():
        queries = sample_queries(examples_manager, db_id, num=16, seed=7)
        assert len(queries) == 16, db_id
        _check_executes(examples_manager, db_id, queries)
        levels.update(q.hardness for q in queries)
        features.update(f for q in queries for f in q.features)
    assert levels == {level: 12 for level in HARDNESS_LEVELS}
    missing = {"join", "aggregate", "group_by", "order_by", "distinct", "set_operation",
               "scalar_subquery", "subquery_not_in"} - set(features)
    assert not missing, features
    assert len(set(features) & set(FEATURES)) >= 13, features


def test_requested_mix_is_met(examples_manager):
    queries = sample_queries(examples_manager, "retail_orders", num=12, seed=3,
                             hardness_mix={"easy": 1, "extra": 3})
    assert Counter(q.hardness for q in queries) == {"easy": 3, "extra": 9}


def test_same_seed_same_sql_other_seed_other_sql(examples_manager):
    first = sample_queries(examples_manager, "hospital_admissions", num=8, seed=11)
    again = sample_queries(examples_manager, "hospital_admissions", num=8, seed=11)
    other = sample_queries(examples_manager, "hospital_admissions", num=8, seed=12)
    assert [q.sql for q in first] == [q.sql for q in again]
    assert [q.sql for q in first] != [q.sql for q in other]


def test_awkward_schema_on_every_engine(awkward_manager):
    queries = sample_queries(awkward_manager, AWKWARD, num=16, seed=5)
    _check_executes(awkward_manager, AWKWARD, queries)
    levels = Counter(q.hardness for q in queries)
    assert all(levels[level] >= 3 for level in HARDNESS_LEVELS), levels
    used = " ".join(q.sql for q in queries)
    assert "empty table" not in used  # a table without rows gives no values to filter on
    assert {"join"} <= {f for q in queries for f in q.features}
