"""Safe execution of hostile SQL, limits, EXPLAIN and batch execution on all three engines."""

from __future__ import annotations

import asyncio
import hashlib
import time

import pytest

from sqlsynth.db import DatabaseManager, ExecStatus
from sqlsynth.db.engines.base import RunLimits
from sqlsynth.db.pool import PooledConnection
from tests.db import dataset

DB = dataset.DB_ID
RUNAWAY = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c"
SERIES = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 3000) SELECT x FROM c"
)

HOSTILE = [
    "INSERT INTO singer VALUES (9, 'X', 'Y', 1)",
    "UPDATE singer SET age = 0",
    "DELETE FROM concert",
    "DROP TABLE concert",
    "CREATE TABLE evil (a INTEGER)",
    "ALTER TABLE singer ADD COLUMN evil INTEGER",
    "ATTACH DATABASE '/tmp/sqlsynth_evil.db' AS evil",
    "PRAGMA query_only = OFF",
    "SET autocommit = 1",
    "SELECT 1; DELETE FROM concert",
    "SELECT * FROM singer; DROP TABLE singer;",
    "WITH d AS (DELETE FROM concert RETURNING *) SELECT * FROM d",
    "SELECT * FROM singer FOR UPDATE",
    "SELECT * INTO evil FROM singer",
    "SELECT load_extension('/tmp/evil')",
    "TRUNCATE TABLE concert",
]


def _counts(manager) -> dict[str, int]:
    out = {}
    for table in dataset.TABLES:
        res = manager.execute(DB, f"SELECT count(*) FROM {table}")
        assert res.ok, res
        out[table] = int(res.rows[0][0])
    return out


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_select_and_with_queries_run(manager):
    res = manager.execute(DB, "SELECT name FROM singer WHERE country = 'France' ORDER BY name")
    assert res.ok and res.rows == (("Justin Brown",), ("Rose White",)) and res.columns == ("name",)
    res = manager.execute(
        DB,
        "WITH big AS (SELECT stadium_id FROM stadium WHERE capacity > 11000) "
        "SELECT count(*) FROM concert WHERE stadium_id IN (SELECT stadium_id FROM big)",
    )
    assert res.ok and int(res.rows[0][0]) == 3
    res = manager.execute(DB, SERIES.replace("SELECT x FROM c", "SELECT max(x) FROM c"))
    assert res.ok and int(res.rows[0][0]) == 3000
    res = manager.execute(DB, "SELECT name FROM singer WHERE name LIKE '%o%' ORDER BY 1;")
    assert res.ok and len(res.rows) == 4


@pytest.mark.parametrize("sql", HOSTILE)
def test_hostile_statements_are_refused(manager, sql, engine_kind, request):
    before = _counts(manager)
    if engine_kind == "sqlite":
        path = manager.engine.path_of(DB)
        digest = _sha(path)
    res = manager.execute(DB, sql)
    assert res.status is ExecStatus.FORBIDDEN, res
    assert manager.explain(DB, sql).status is ExecStatus.FORBIDDEN
    manager.clear_cache()
    assert _counts(manager) == before
    if engine_kind == "sqlite":
        assert _sha(path) == digest


WRITES = [
    "INSERT INTO singer VALUES (9, 'X', 'Y', 1)",
    "UPDATE singer SET age = 0",
    "DELETE FROM concert",
    "DROP TABLE concert",
    "CREATE TABLE evil (a INTEGER)",
]


@pytest.mark.parametrize("sql", WRITES)
def test_engine_wall_holds_without_the_guard(manager, sql, engine_kind):
    """The engine refuses writes even when the statement guard is bypassed."""
    before = _counts(manager)
    conn = manager.engine.connect(DB)
    try:
        res = manager.engine.run(PooledConnection(conn), sql, RunLimits(5.0, 100, 10**6))
        # PostgreSQL: the statement runs as-is inside the READ ONLY transaction, which refuses it.
        assert res.status is ExecStatus.FORBIDDEN, res
        if engine_kind == "sqlite":  # also without the authorizer: mode=ro / query_only
            conn.set_authorizer(None)
            res = manager.engine.run(PooledConnection(conn), sql, RunLimits(5.0, 100, 10**6))
            assert res.status is ExecStatus.FORBIDDEN, res
    finally:
        manager.engine.close_connection(conn)
    manager.clear_cache()
    assert _counts(manager) == before


def test_runaway_query_is_stopped(make_manager, engine_kind):
    manager = make_manager(timeout=1.0)
    start = time.monotonic()
    res = manager.execute(DB, RUNAWAY)
    elapsed = time.monotonic() - start
    print(f"\n{engine_kind}: runaway query stopped after {elapsed:.3f}s ({res.error})")
    assert res.status is ExecStatus.TIMEOUT, res
    assert elapsed < 2.0
    assert manager.execute(DB, "SELECT count(*) FROM singer").ok  # the pool still works


# The guard refuses sleep functions unless allowed by name (as a user would in the config).
SLEEP_FUNCTIONS = ("sleep", "pg_sleep")


def test_sleep_is_stopped(make_manager, engine_kind):
    manager = make_manager(timeout=1.0, allowed_functions=SLEEP_FUNCTIONS)
    sql = {"sqlite": RUNAWAY, "mysql": "SELECT SLEEP(30)", "postgres": "SELECT pg_sleep(30)"}
    start = time.monotonic()
    res = manager.execute(DB, sql[engine_kind])
    assert time.monotonic() - start < 2.0
    # MySQL/MariaDB's SLEEP() returns 1 when interrupted; it must still read as a timeout.
    assert res.status is ExecStatus.TIMEOUT, res


def test_client_side_backup_interrupt(make_manager, engine_kind):
    """With the engine's own time limit off, the watchdog (KILL QUERY/cancel/interrupt) stops it."""
    manager = make_manager(timeout=1.0)
    manager.engine.engine_side_timeout = False
    start = time.monotonic()
    res = manager.execute(DB, RUNAWAY)
    elapsed = time.monotonic() - start
    print(f"\n{engine_kind}: backup interrupt stopped the query after {elapsed:.3f}s")
    assert res.status is ExecStatus.TIMEOUT, res
    assert elapsed < 3.0
    manager.engine.engine_side_timeout = True
    assert manager.execute(DB, "SELECT count(*) FROM singer").ok


def test_row_cap_truncates(manager):
    res = manager.execute(DB, SERIES, max_rows=100)
    assert res.ok and res.truncated and len(res.rows) == 100
    res = manager.execute(DB, SERIES, max_rows=5000)
    assert res.ok and not res.truncated and len(res.rows) == 3000
    assert manager.execute(DB, "SELECT count(*) FROM singer").ok


def test_result_size_limit(make_manager):
    manager = make_manager(max_result_bytes=20_000)
    res = manager.execute(DB, SERIES)
    assert res.status is ExecStatus.TOO_LARGE, res
    assert manager.execute(DB, "SELECT * FROM singer").ok


@pytest.mark.parametrize(
    ("sql", "status"),
    [
        ("SELECT name FROM singer WHERE", ExecStatus.SYNTAX_ERROR),
        ("SELECT name FROM singer ORDER BY BY name", ExecStatus.SYNTAX_ERROR),
        ("SELECT nope FROM singer", ExecStatus.RUNTIME_ERROR),
        ("SELECT * FROM no_such_table", ExecStatus.RUNTIME_ERROR),
    ],
)
def test_errors_are_classified_and_explain_agrees(manager, sql, status):
    res = manager.execute(DB, sql)
    assert res.status is status, res
    assert res.error and res.error_class
    assert manager.explain(DB, sql).status is status


def test_explain_accepts_valid_queries_without_running_them(make_manager):
    manager = make_manager(timeout=2.0)
    assert manager.explain(DB, "SELECT * FROM singer WHERE age > 30").ok
    start = time.monotonic()
    res = manager.explain(DB, "SELECT count(*) FROM singer s1, singer s2 WHERE s1.age < s2.age")
    assert res.ok, res
    res = manager.explain(DB, RUNAWAY)  # planned, never run
    assert res.ok, res
    assert time.monotonic() - start < 2.0


def test_unknown_db(manager):
    assert manager.execute("nope", "SELECT 1").status is ExecStatus.UNKNOWN_DB
    assert manager.explain("nope", "SELECT 1").status is ExecStatus.UNKNOWN_DB


def test_batch_dedups_identical_pairs(make_manager):
    manager = make_manager(max_workers=4)
    pairs = [(DB, "SELECT count(*) FROM singer"), (DB, "SELECT count(*) FROM concert")] * 10
    pairs.append((dataset.OTHER_DB_ID, "SELECT count(*) FROM pet"))
    results = manager.execute_many(pairs)
    assert [int(r.rows[0][0]) for r in results] == [5, 5] * 10 + [2]
    assert manager.stats["executions"] == 3
    results = asyncio.run(manager.aexecute_many(pairs[:4]))
    assert all(r.ok for r in results) and manager.stats["executions"] == 3


async def test_concurrent_identical_requests_share_one_execution(make_manager, engine_kind):
    manager = make_manager(timeout=5.0, allowed_functions=SLEEP_FUNCTIONS)
    slow = {
        "sqlite": SERIES.replace("SELECT x FROM c", "SELECT sum(x) FROM c"),
        "mysql": "SELECT SLEEP(0.3)",
        "postgres": "SELECT pg_sleep(0.3)",
    }[engine_kind]
    results = await asyncio.gather(*(manager.aexecute(DB, slow) for _ in range(8)))
    assert all(r.ok for r in results)
    assert manager.stats["executions"] == 1
    assert (await manager.aexplain(DB, "SELECT 1")).ok


async def test_aexecute_does_not_block_the_event_loop(make_manager):
    manager = make_manager(timeout=1.0)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    task = asyncio.create_task(ticker())
    res = await manager.aexecute(DB, RUNAWAY)
    task.cancel()
    assert res.status is ExecStatus.TIMEOUT
    assert ticks >= 5


def test_concurrency_is_bounded_per_database(make_manager, engine_kind):
    manager = make_manager(max_workers=8, per_db_concurrency=2, allowed_functions=SLEEP_FUNCTIONS)
    slow = {
        "sqlite": SERIES.replace("x < 3000", "x < {n}").replace(
            "SELECT x FROM c", "SELECT sum(x) FROM c"
        ),
        "mysql": "SELECT SLEEP(0.2) + {n}",
        "postgres": "SELECT pg_sleep(0.2), {n}",
    }[engine_kind]
    pairs = [(DB, slow.format(n=400_000 + i)) for i in range(6)]
    results = manager.execute_many(pairs)
    assert all(r.ok for r in results), results
    assert manager.workers.peak_in_use[DB] == 2


@pytest.mark.parametrize("bad", [None, 42, b"SELECT 1", ["SELECT 1"]])
def test_non_string_sql_is_a_clear_error_on_both_paths(tmp_path, bad) -> None:
    import asyncio
    import sqlite3

    conn = sqlite3.connect(tmp_path / "a.sqlite")
    conn.execute("CREATE TABLE t (a)")
    conn.close()
    with DatabaseManager("sqlite", {"root_path": str(tmp_path)}, timeout=2) as db:
        with pytest.raises(TypeError, match="sql must be a string"):
            db.execute("a", bad)
        with pytest.raises(TypeError, match="sql must be a string"):
            asyncio.run(asyncio.wait_for(db.aexecute("a", bad), 10))
        with pytest.raises(TypeError, match="sql must be a string"):
            db.execute_many([("a", bad)])
        assert db.execute("a", "SELECT 1").rows == ((1,),)


def test_reading_a_schema_has_a_total_deadline(tmp_path, monkeypatch) -> None:
    import sqlite3
    import time

    import sqlsynth.db.manager as manager_module

    conn = sqlite3.connect(tmp_path / "slow.sqlite")
    cols = ", ".join(f"x AS c{i}" for i in range(41))
    conn.execute("CREATE VIEW slow AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
                 f"SELECT x + 1 FROM c) SELECT {cols} FROM c WHERE x < 0")
    conn.close()
    monkeypatch.setattr(manager_module, "SCHEMA_MIN_BUDGET", 1.0)
    with DatabaseManager("sqlite", {"root_path": str(tmp_path)}, timeout=0.5) as db:
        start = time.monotonic()
        schema = db.get_schema("slow")
        took = time.monotonic() - start
    assert len(schema.tables[0].columns) == 41
    assert took < db.schema_budget() + 2.5, f"{took:.1f}s for a {db.schema_budget()}s budget"
