"""The SQL sampler on the bundled databases and on an awkward SQLite schema."""

from __future__ import annotations

import asyncio
import collections
import re
import sqlite3
from pathlib import Path

import pytest

from sqlsynth.db import DatabaseManager
from sqlsynth.db.guard import check_read_only
from sqlsynth.factory import example_databases
from sqlsynth.operators.filter.question_checks import question_problem
from sqlsynth.realize.names import humanize, plural, singular
from sqlsynth.sampling import level_schedule, sample_queries
from sqlsynth.sql.hardness import spider_hardness


def _sample(manager: DatabaseManager, db_id: str, num: int, seed: int = 7, mix=None):
    return asyncio.run(sample_queries(manager, db_id, num=num, seed=seed, hardness_mix=mix))


@pytest.fixture(scope="module")
def bundled() -> DatabaseManager:
    return DatabaseManager.from_path_or_url(str(example_databases()))


@pytest.fixture(scope="module")
def bundled_queries(bundled: DatabaseManager):
    return {db_id: _sample(bundled, db_id, 16) for db_id in bundled.list_databases()}


def test_every_sampled_statement_passes_the_guard_and_returns_rows(bundled, bundled_queries):
    for db_id, queries in bundled_queries.items():
        assert len(queries) >= 14, db_id
        for query in queries:
            assert check_read_only(query.sql, "sqlite").allowed, query.sql
            result = asyncio.run(bundled.aexecute(db_id, query.sql))
            assert result.ok and result.rows, (query.sql, result.error)


def test_the_requested_hardness_mix_is_met(bundled, bundled_queries):
    levels = collections.Counter(q.hardness for qs in bundled_queries.values() for q in qs)
    assert set(levels) == {"easy", "medium", "hard", "extra"}
    assert min(levels.values()) >= 0.2 * sum(levels.values())
    for qs in bundled_queries.values():
        for query in qs:
            assert spider_hardness(query.sql) == query.hardness
    skewed = _sample(bundled, "retail_orders", 12, mix={"easy": 0, "medium": 0, "hard": 1,
                                                       "extra": 3})
    counts = collections.Counter(q.hardness for q in skewed)
    assert counts["extra"] >= 7 and counts["easy"] == counts["medium"] == 0


def test_features_cover_joins_nesting_aggregates_and_set_operations(bundled_queries):
    features = {f for qs in bundled_queries.values() for q in qs for f in q.features}
    assert {"join", "aggregate", "group_by", "order_by", "limit"} <= features
    assert features & {"subquery_in", "subquery_not_in", "exists", "scalar_subquery"}
    assert "set_operation" in features


def test_same_seed_same_sql_other_seed_other_sql(bundled):
    first = [q.sql for q in _sample(bundled, "hospital_admissions", 8, seed=3)]
    again = [q.sql for q in _sample(bundled, "hospital_admissions", 8, seed=3)]
    other = [q.sql for q in _sample(bundled, "hospital_admissions", 8, seed=4)]
    assert first == again
    assert first != other


def _literals(sql: str) -> list[str]:
    return [m.replace("''", "'") for m in re.findall(r"'((?:[^']|'')*)'", sql)
            if m not in ("yes", "no")]


def test_canonical_question_names_every_value_and_table_and_passes_the_checks(
        bundled, bundled_queries):
    for db_id, queries in bundled_queries.items():
        tables = bundled.get_schema(db_id).table_names
        for query in queries:
            text = f"{query.question} {query.evidence}"
            for literal in _literals(query.sql):
                assert literal.strip("%") in text, (literal, query.sql, query.question)
            for table in tables:
                if re.search(rf"\b{re.escape(table)}\b", query.sql.split("WHERE")[0]):
                    name = humanize(table)
                    assert singular(name) in query.question or name in query.question or \
                        singular(name).split()[-1] in query.question, (table, query.question)
            assert question_problem(query.question, query.evidence, query.sql) is None, \
                (query.question, question_problem(query.question, query.evidence, query.sql))
            assert query.reasoning.rstrip().endswith("```")
            assert query.sql in query.reasoning


def test_level_schedule_is_exact_and_interleaved():
    assert level_schedule(8) == ["easy", "medium", "hard", "extra"] * 2
    assert collections.Counter(level_schedule(10, {"easy": 1, "extra": 1})) == {
        "easy": 5, "extra": 5}
    with pytest.raises(ValueError, match="hardness_mix"):
        level_schedule(4, {"trivial": 1})


def test_names_read_as_english():
    assert humanize("OrderItems") == "order items"
    assert humanize("order_items") == "order items"
    assert humanize("Order Items") == "order items"
    assert singular("diagnoses") == "diagnosis"
    assert singular("categories") == "category"
    assert plural("person") == "people" and plural("stores") == "stores"


@pytest.fixture(scope="module")
def awkward(tmp_path_factory: pytest.TempPathFactory) -> DatabaseManager:
    root = tmp_path_factory.mktemp("awkward")
    path = Path(root) / "awkward" / "awkward.sqlite"
    path.parent.mkdir()
    conn = sqlite3.connect(path)
    conn.executescript('''
        CREATE TABLE "Order" ("select" INTEGER PRIMARY KEY, "Group Name" TEXT, amount REAL);
        CREATE TABLE employee (emp_no INTEGER PRIMARY KEY, full_name TEXT, salary REAL,
            manager_no INTEGER REFERENCES employee(emp_no));
        CREATE TABLE shift (emp_no INTEGER, day TEXT, hours REAL,
            PRIMARY KEY (emp_no, day), FOREIGN KEY (emp_no) REFERENCES employee(emp_no));
        CREATE TABLE shift_note (emp_no INTEGER, day TEXT, note TEXT,
            FOREIGN KEY (emp_no, day) REFERENCES shift(emp_no, day));
        CREATE TABLE empty_table (id INTEGER PRIMARY KEY, label TEXT);
        CREATE VIEW big_orders AS SELECT "Group Name", amount FROM "Order" WHERE amount > 10;
    ''')
    conn.executemany('INSERT INTO "Order" VALUES (?, ?, ?)',
                     [(i, ["north", "south", "east"][i % 3], 5.0 * i) for i in range(1, 13)])
    conn.executemany("INSERT INTO employee VALUES (?, ?, ?, ?)",
                     [(i, f"Person {i}", 1000.0 + 100 * i, None if i == 1 else 1 + i % 3)
                      for i in range(1, 11)])
    conn.executemany("INSERT INTO shift VALUES (?, ?, ?)",
                     [(1 + i % 10, f"2024-01-{1 + i // 10:02d}", 4.0 + i % 5) for i in range(30)])
    conn.executemany("INSERT INTO shift_note VALUES (?, ?, ?)",
                     [(1 + i % 10, f"2024-01-{1 + i // 10:02d}", f"note {i}") for i in range(12)])
    conn.commit()
    conn.close()
    return DatabaseManager.from_path_or_url(str(root))


def test_awkward_schema_quoted_reserved_composite_self_referencing_views_empty(awkward):
    queries = _sample(awkward, "awkward", 40, seed=11)
    assert len(queries) >= 30
    for query in queries:
        result = asyncio.run(awkward.aexecute("awkward", query.sql))
        assert result.ok and result.rows, (query.sql, result.error)
        assert "empty_table" not in query.sql  # no stored values, no rows: nothing to ask
    text = " ".join(q.sql for q in queries)
    assert '"Order"' in text or '"select"' in text or '"Group Name"' in text
    assert any("self_join" in q.features for q in queries) or "manager" in " ".join(
        q.question for q in queries)
