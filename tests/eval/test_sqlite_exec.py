"""The official-convention runner holds hostile predictions: read-only, no ATTACH, deadlines,
and bounded memory where the official scripts would grow without limit."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from sqlsynth.eval.conventions.sqlite_exec import run_sql

RUNAWAY = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
           "SELECT x, 'padding padding padding' FROM c")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "shop.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE items (id INTEGER, name TEXT)")
    conn.executemany("INSERT INTO items VALUES (?, ?)", [(1, "pen"), (2, "ink")])
    conn.commit()
    conn.close()
    return path


def test_rows_and_column_names(db: Path) -> None:
    run = run_sql(db, "SELECT id AS n, name FROM items ORDER BY id")
    assert run.ok and run.rows == [(1, "pen"), (2, "ink")] and run.names == ("n", "name")


def test_a_runaway_result_without_a_deadline_is_too_large_not_unbounded(db: Path) -> None:
    run = run_sql(db, RUNAWAY, timeout=None, max_bytes=2 * 2**20)
    assert not run.ok and run.error.startswith("too_large")


def test_a_huge_value_is_never_built(db: Path) -> None:
    run = run_sql(db, "SELECT zeroblob(1000000000)")
    assert not run.ok and run.error.startswith("too_large")


def test_the_deadline_interrupts_a_runaway_statement(db: Path) -> None:
    start = time.monotonic()
    run = run_sql(db, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                      "SELECT count(*) FROM c", timeout=0.5)
    assert run.timed_out and run.error == "timeout"
    assert time.monotonic() - start < 5, "hang guard"


@pytest.mark.parametrize("sql", [
    "DELETE FROM items", "CREATE TABLE x (a)", "ATTACH DATABASE '{dir}/other.db' AS o",
    "VACUUM INTO '{dir}/copy.db'",
])
def test_nothing_is_written(db: Path, sql: str, tmp_path: Path) -> None:
    before = db.read_bytes()
    run = run_sql(db, sql.format(dir=tmp_path))
    assert not run.ok
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.sqlite"]
