"""Hard deadlines and bounded memory whatever the server does (issue 8, items 4-6).

A frozen server (SIGSTOP), a locked SQLite file, a pool waiting for a connection, one huge
function call, deeply nested or huge statements, a 60 MB row and a 600 MB value: each returns
within the limit plus the kill grace (checked with a generous hang guard), never raises, keeps
an asyncio loop ticking, and leaves the main process's memory where it was.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from sqlsynth.db import DatabaseManager, ExecStatus
from sqlsynth.db.engines.base import RunLimits
from tests.db import dataset

DB = dataset.DB_ID
LIMIT = 1.0
HANG_GUARD = LIMIT + 3.0  # the deadline is limit + ~0.7 s; slack for a busy test machine
SERVER_FIXTURE = {"mysql": "mariadb_server", "postgres": "postgres_server"}
SLOW_SQL = {"mysql": "SELECT SLEEP(0.2) + 1", "postgres": "SELECT pg_sleep(0.2), 1"}


#: these tests need a statement that waits; the guard denies sleep unless allowed by name
SLEEP_FUNCTIONS = ("sleep", "pg_sleep")


def _server_manager(kind, request, **kw):
    server = request.getfixturevalue(SERVER_FIXTURE[kind])
    kw.setdefault("allowed_functions", SLEEP_FUNCTIONS)
    manager = DatabaseManager(kind, server.config(), **kw)
    assert manager.list_databases()  # discovery and the account check happen before freezing
    assert manager.execute(DB, "SELECT 1").ok
    return server, manager


@pytest.mark.servers
@pytest.mark.parametrize("kind", ["mysql", "postgres"])
def test_frozen_server_cannot_stall_a_query_or_the_event_loop(kind, request):
    server, manager = _server_manager(kind, request, timeout=LIMIT, per_db_concurrency=1,
                                      max_workers=2)
    try:
        pids = server.freeze()
        try:
            ticks = 0

            async def ticker() -> None:
                nonlocal ticks
                while True:
                    await asyncio.sleep(0.02)
                    ticks += 1

            async def main():
                task = asyncio.create_task(ticker())
                start = time.monotonic()
                # two at once on a one-connection database: the second waits for the pool
                results = await asyncio.gather(
                    manager.aexecute(DB, "SELECT count(*) FROM singer"),
                    manager.aexecute(DB, "SELECT count(*) FROM concert"),
                )
                elapsed = time.monotonic() - start
                task.cancel()
                return results, elapsed

            results, elapsed = asyncio.run(main())
            assert elapsed < HANG_GUARD, elapsed
            assert [r.status for r in results] == [ExecStatus.TIMEOUT] * 2, results
            assert ticks >= elapsed / 0.02 * 0.5, (ticks, elapsed)  # the loop kept running
            start = time.monotonic()
            res = manager.explain(DB, "SELECT * FROM stadium")
            assert time.monotonic() - start < HANG_GUARD
            assert res.status is ExecStatus.TIMEOUT, res
        finally:
            server.thaw(pids)
        assert manager.workers.stats["killed"] >= 1
        manager.clear_cache()
        res = manager.execute(DB, "SELECT count(*) FROM singer")  # a fresh worker takes over
        assert res.ok and res.rows[0][0] == dataset.COUNTS["singer"], res
    finally:
        manager.close()


@pytest.mark.servers
@pytest.mark.parametrize("kind", ["mysql", "postgres"])
def test_waiting_for_a_busy_pool_counts_inside_the_limit(kind, request):
    _, manager = _server_manager(kind, request, timeout=LIMIT, per_db_concurrency=1)
    sleep = {"mysql": "SELECT SLEEP(30)", "postgres": "SELECT pg_sleep(30)"}[kind]
    try:
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(manager.execute, DB, sleep)
            time.sleep(0.1)
            start = time.monotonic()
            second = manager.execute(DB, "SELECT 1 + 1")
            waited = time.monotonic() - start
            assert first.result().status is ExecStatus.TIMEOUT
        assert waited < HANG_GUARD
        assert second.status in (ExecStatus.OK, ExecStatus.TIMEOUT), second
        manager.clear_cache()
        assert manager.execute(DB, "SELECT 1 + 1").ok  # a wait-out is never cached
    finally:
        manager.close()


def test_locked_sqlite_file_waits_no_longer_than_the_limit(sqlite_root, tmp_path):
    root = tmp_path / "dbs"
    shutil.copytree(sqlite_root, root)
    manager = DatabaseManager("sqlite", {"root_path": str(root)}, timeout=LIMIT)
    path = manager.engine.path_of(DB)
    locker = sqlite3.connect(path, isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        start = time.monotonic()
        res = manager.execute(DB, "SELECT count(*) FROM singer")
        elapsed = time.monotonic() - start
        assert elapsed < HANG_GUARD, elapsed
        assert not res.ok, res
        assert res.status in (ExecStatus.TIMEOUT, ExecStatus.RUNTIME_ERROR), res
    finally:
        locker.execute("ROLLBACK")
        locker.close()
        manager.close()


def test_one_huge_sqlite_function_call_is_cut_at_the_deadline(sqlite_root):
    manager = DatabaseManager("sqlite", {"root_path": str(sqlite_root)}, timeout=LIMIT,
                              max_result_bytes=2**31 - 1)  # so only the deadline can stop it
    try:
        for sql in ("SELECT length(printf('%.*c', 2000000000, 'x'))",
                    "SELECT length(zeroblob(2000000000)) + length(randomblob(1500000000))"):
            start = time.monotonic()
            res = manager.execute(DB, sql)
            assert time.monotonic() - start < HANG_GUARD, sql
            assert res.status in (ExecStatus.TIMEOUT, ExecStatus.TOO_LARGE) or res.ok, res
    finally:
        manager.close()


NESTED = {
    "parentheses": "SELECT " + "(" * 5000 + "1" + ")" * 5000,
    "subqueries": "SELECT * FROM " + "(SELECT * FROM " * 300 + "singer" + ") AS t" * 300,
    "huge": "SELECT " + " + ".join(["1"] * 300_000),
    "huge_in_list": "SELECT count(*) FROM singer WHERE age IN (" + ", ".join(
        str(i) for i in range(200_000)) + ")",
}


@pytest.mark.parametrize("which", sorted(NESTED))
def test_nested_and_huge_statements_never_raise_or_overrun(make_manager, which):
    manager = make_manager(timeout=LIMIT)
    sql = NESTED[which]
    for call in (manager.execute, manager.explain):
        start = time.monotonic()
        res = call(DB, sql)
        assert time.monotonic() - start < HANG_GUARD, (which, call.__name__)
        assert res.status in ExecStatus, res
    assert manager.execute(DB, "SELECT count(*) FROM singer").ok


# -- item 4: no state survives a statement --------------------------------------------------
STATE = {
    # (statement A run as a trusted statement, what it returns, probe B, what B must see)
    "mysql": [
        ("SELECT @v := 'from A', @v", ("from A", "from A"), "SELECT @v", (None,)),
        ("SELECT GET_LOCK('sqlsynth_state', 0)", (1,),
         "SELECT IS_USED_LOCK('sqlsynth_state') IS NULL", (1,)),
        ("SET SESSION sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES'", None,
         "SELECT @@session.sql_mode LIKE '%ANSI_QUOTES%'", (0,)),
        ("SET SESSION time_zone = '+05:00'", None, "SELECT @@session.time_zone = '+05:00'", (0,)),
        ("SET SESSION TRANSACTION READ WRITE", None, "SELECT @@session.tx_read_only", (1,)),
        ("SELECT LAST_INSERT_ID(42)", (42,), "SELECT LAST_INSERT_ID()", (0,)),
        ("PREPARE leak FROM 'SELECT 1'", None, "EXECUTE leak", "error"),
    ],
    "postgres": [
        ("SELECT pg_advisory_lock(4243)", ("",),
         ("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
         "AND pid = pg_backend_pid()"), (0,)),
        ("SELECT set_config('search_path', 'pg_catalog', false)", ("pg_catalog",),
         "SELECT current_setting('search_path')", ("public",)),
        ("SELECT set_config('standard_conforming_strings', 'off', false)", ("off",),
         "SELECT current_setting('standard_conforming_strings')", ("on",)),
        ("SELECT set_config('default_transaction_read_only', 'off', false)", ("off",),
         "SELECT current_setting('default_transaction_read_only')", ("on",)),
        # commands without rows: the driver reports an error, the server has done them
        ("PREPARE leak AS SELECT 1", "any", "SELECT count(*) FROM pg_prepared_statements", (0,)),
        ("LISTEN leak", "any", "SELECT count(*) FROM pg_listening_channels()", (0,)),
    ],
}


@pytest.mark.servers
@pytest.mark.parametrize("kind", ["mysql", "postgres"])
def test_query_b_never_sees_what_query_a_did(kind, request):
    """A runs without the guard on the privileged account (so it really can change its
    session); B, on the same worker connection, must find the connection as new."""
    server = request.getfixturevalue(SERVER_FIXTURE[kind])
    manager = DatabaseManager(kind, server.config(privileged=True), allow_privileged_account=True,
                              per_db_concurrency=1, max_workers=1, timeout=5.0)
    limits = RunLimits(5.0, 10, 10**6)
    try:
        first = manager._raw_run(DB, "SELECT 1", limits, False)
        assert first.ok, first
        for a_sql, a_sees, b_sql, b_sees in STATE[kind]:
            res_a = manager._raw_run(DB, a_sql, limits, False)
            assert res_a.status is ExecStatus.OK or a_sees == "any", (a_sql, res_a)
            if a_sees not in (None, "any"):
                got = tuple("" if v is None and a_sees == ("",) else v for v in res_a.rows[0])
                assert got == a_sees or a_sees == ("",), (a_sql, res_a.rows)
            res_b = manager._raw_run(DB, b_sql, limits, False)
            if b_sees == "error":
                assert not res_b.ok, (b_sql, res_b)
            else:
                assert res_b.ok and tuple(res_b.rows[0]) == b_sees, (a_sql, b_sql, res_b)
        assert manager.workers.stats["spawned"] == 1  # all on one worker, one connection
    finally:
        manager.close()


def test_sqlite_connection_has_no_state_to_leak(sqlite_root):
    manager = DatabaseManager("sqlite", {"root_path": str(sqlite_root)}, max_workers=1,
                              per_db_concurrency=1)
    limits = RunLimits(5.0, 10, 10**6)
    try:
        for a_sql in ("CREATE TEMP TABLE leak (a)", "ATTACH ':memory:' AS leak",
                      "PRAGMA query_only = OFF", "BEGIN", "SAVEPOINT leak"):
            assert not manager._raw_run(DB, a_sql, limits, False).ok, a_sql
            res = manager._raw_run(DB, "SELECT count(*) FROM sqlite_temp_master", limits, False)
            assert res.ok and res.rows == ((0,),)
            res = manager._raw_run(DB, "PRAGMA database_list", limits, False)
            assert res.ok and {r[1] for r in res.rows} <= {"main", "temp"}, res
    finally:
        manager.close()


# -- item 6: bounded memory ---------------------------------------------------------------
class PeakRSS:
    """Peak resident memory of this process while the block runs (sampled every 5 ms)."""

    def __enter__(self):
        self.base = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.base) / 2**20


def _rss() -> int:
    import os

    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


HUGE = {
    "sqlite": {"row": "SELECT zeroblob(30000000) AS a, zeroblob(30000000) AS b",
               "value": "SELECT zeroblob(600000000)"},
    "mysql": {"row": "SELECT REPEAT('x', 30000000) AS a, REPEAT('y', 30000000) AS b",
              "value": "SELECT REPEAT('x', 600000000)"},
    "postgres": {"row": "SELECT repeat('x', 30000000) AS a, repeat('y', 30000000) AS b",
                 "value": "SELECT repeat('x', 600000000)"},
}


@pytest.mark.slow
@pytest.mark.parametrize("which", ["row", "value"])
def test_huge_row_or_value_is_too_large_without_growing_the_caller(make_manager, engine_kind,
                                                                   which, request):
    if engine_kind == "mysql":  # let the server really send 600 MB (default cap: 16 MB)
        server = request.getfixturevalue("mariadb_server")
        server.admin_execute("SET GLOBAL max_allowed_packet = 1073741824")
    manager = make_manager(timeout=20.0)
    try:
        assert manager.execute(DB, "SELECT 1").ok
        with PeakRSS() as rss:
            res = manager.execute(DB, HUGE[engine_kind][which])
        print(f"\n{engine_kind} {which}: {res.status.value}, main process +{rss.growth_mb:.0f} MB")
        # a server's 600 MB value takes the driver ~20-30 s to read on a busy machine: the
        # time limit may stop it first; either way the main process never holds it
        stopped = (ExecStatus.TOO_LARGE,) if (engine_kind == "sqlite" or which == "row") \
            else (ExecStatus.TOO_LARGE, ExecStatus.TIMEOUT)
        assert res.status in stopped, res
        assert rss.growth_mb < 300, rss.growth_mb
    finally:
        if engine_kind == "mysql":
            server.admin_execute("SET GLOBAL max_allowed_packet = 16777216")


def test_result_cache_is_bounded_in_bytes(make_manager):
    manager = make_manager(cache_bytes=2 * 2**20)
    for i in range(40):
        res = manager.execute(
            DB, f"SELECT a.name, {i} FROM singer a, singer b, singer c, singer d, singer e"
        )
        assert res.ok and len(res.rows) == 3125, res
    assert 0 < manager.cache_bytes_used <= 2 * 2**20
    assert len(manager._cache) < 40


@pytest.mark.servers
@pytest.mark.parametrize("kind", ["mysql", "postgres"])
def test_a_row_past_the_cap_is_stopped_while_the_driver_reads_it(kind, request):
    # five 10 MB values: one row of 50 MB against the 32 MB default cap. The driver's byte
    # meter stops it mid-row (metering.py), before the row, or its later values, are built.
    server = request.getfixturevalue("mariadb_server" if kind == "mysql" else "postgres_server")
    fn = "REPEAT" if kind == "mysql" else "repeat"
    sql = "SELECT " + ", ".join(f"{fn}('{c}', 10000000) AS {c}" for c in "abcde")
    manager = DatabaseManager(kind, server.config(), timeout=20.0)
    try:
        res = manager.execute(DB, sql)
        assert res.status is ExecStatus.TOO_LARGE, res
        assert "while reading" in (res.error or ""), res.error
        assert manager.execute(DB, "SELECT 1").ok  # the stopped connection was not reused
    finally:
        manager.close()
