"""Every convention runs predictions in sandbox workers: no prediction changes another's
verdict, a C call that ignores the progress handler stops at the deadline, and memory is
bounded where it is spent (the worker, not the evaluator)."""

from __future__ import annotations

import resource
import sqlite3
import time
from pathlib import Path

import pytest

from sqlsynth.db import DatabaseManager
from sqlsynth.eval import EvalItem, evaluate
from sqlsynth.eval.conventions.runner import ConventionOptions, evaluate_convention
from sqlsynth.eval.conventions.sqlite_exec import run_sql

GOLD = "SELECT name FROM singer WHERE age > 30"
STATE_CHANGES = [
    "PRAGMA hard_heap_limit=400000", "PRAGMA hard_heap_limit=1", "PRAGMA soft_heap_limit=1",
    "PRAGMA cache_size=1", "PRAGMA query_only=1", "PRAGMA threads=8",
    "SELECT * FROM pragma_soft_heap_limit", "PRAGMA mmap_size=1000000000",
]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "dbs" / "music"
    folder.mkdir(parents=True)
    conn = sqlite3.connect(folder / "music.sqlite")
    conn.executescript("CREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT, "
                       "age INTEGER); INSERT INTO singer VALUES (1, 'Ann', 30), (2, 'Bob', 40);")
    conn.commit()
    conn.close()
    (tmp_path / "gold.csv").write_text("name\nBob\n")
    return tmp_path / "dbs"


def _items(root: Path, hostile: list[str], correct: int) -> list[EvalItem]:
    meta = {"gold_csv": str(root.parent / "gold.csv")}
    items = [EvalItem("music", GOLD, sql, gold_meta=meta) for sql in hostile]
    return items + [EvalItem("music", GOLD, GOLD, gold_meta=meta) for _ in range(correct)]


@pytest.mark.parametrize("convention", ["spider", "test-suite", "bird", "spider2"])
def test_a_state_changing_pragma_does_not_change_later_verdicts(root: Path, convention: str
                                                                ) -> None:
    opts = ConventionOptions(db_root=root, timeout=5, with_ves=False)
    report = evaluate_convention(_items(root, STATE_CHANGES, 3), convention, opts, etype="exec")
    verdicts = [item.exec_match for item in report.items]
    assert verdicts[len(STATE_CHANGES):] == [True, True, True]
    assert not any(verdicts[:len(STATE_CHANGES)])


def test_the_sqlsynth_convention_holds_them_too(root: Path) -> None:
    with DatabaseManager("sqlite", {"root_path": str(root)}, timeout=5) as db:
        report = evaluate(_items(root, STATE_CHANGES, 3), db, etype="exec")
    verdicts = [item.exec_match for item in report.items]
    assert verdicts[len(STATE_CHANGES):] == [True, True, True]


def test_the_pragmas_are_denied_and_read_only_listings_allowed(root: Path) -> None:
    db = root / "music" / "music.sqlite"
    for sql in STATE_CHANGES:
        run = run_sql(db, sql, timeout=5)
        assert not run.ok and "not authorized" in (run.error or ""), sql
    run = run_sql(db, "SELECT name FROM pragma_table_info('singer')", timeout=5)
    assert run.ok and run.rows == [("singer_id",), ("name",), ("age",)]
    assert run_sql(db, "PRAGMA table_info(singer)", timeout=5).ok


def test_one_c_call_stops_at_the_deadline(root: Path) -> None:
    db = root / "music" / "music.sqlite"
    start = time.monotonic()
    run = run_sql(db, "SELECT printf('%.*c', 2e9, 'x')", timeout=1.0)
    assert run.timed_out and time.monotonic() - start < 2.5
    assert run_sql(db, "SELECT 1", timeout=1.0).rows == [(1,)]  # a fresh worker answers


def test_a_row_of_huge_values_fails_in_the_worker_not_here(root: Path) -> None:
    db = root / "music" / "music.sqlite"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sql = "SELECT " + ", ".join(["randomblob(30000000)"] * 60)
    run = run_sql(db, sql, timeout=30)
    assert not run.ok and run.error.startswith("too_large")
    wide = "SELECT " + ", ".join([f"printf('%.*c', 20000000, '{i % 10}')" for i in range(40)])
    run = run_sql(db, wide, timeout=30)
    assert not run.ok and run.error.startswith("too_large")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200, f"the evaluator itself grew by {grown_mb:.0f} MB"


def test_text_is_counted_as_it_is_decoded(root: Path) -> None:
    db = root / "music" / "music.sqlite"
    run = run_sql(db, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                      "LIMIT 40) SELECT printf('%.*c', 1000000, 'x') FROM c",
                  timeout=30, max_bytes=10 * 2**20)
    assert not run.ok and run.error.startswith("too_large")


def test_non_string_sql_is_a_clear_error(root: Path) -> None:
    with pytest.raises(TypeError, match="string"):
        run_sql(root / "music" / "music.sqlite", None)  # type: ignore[arg-type]
