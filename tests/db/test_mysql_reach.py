"""MariaDB: stored routines reached without the guard seeing them are refused (mysql_reach.py).

A throwaway database holds a DEFINER view over a root-owned stored function that changes a
server global, a second view over that view, and stored functions named like built-ins this
server version lacks (REGEXP_LIKE, IS_UUID on 10.11), the account holding EXECUTE on them.
Every attack must be refused by execute and explain and leave max_connections unchanged;
MariaDB's uninterruptible REGEXP_REPLACE family is refused outright.
"""

from __future__ import annotations

import time

import pytest

from sqlsynth.db import DatabaseManager, ExecStatus
from tests import servers

pytestmark = pytest.mark.servers

DB = "reach_trap"
BUMP = ("BEGIN SET GLOBAL max_connections = @@GLOBAL.max_connections + 1; RETURN 1; END")

SETUP = [
    f"CREATE DATABASE {DB}",
    f"CREATE TABLE {DB}.item (id INT PRIMARY KEY, name VARCHAR(20))",
    f"INSERT INTO {DB}.item VALUES (1, 'a'), (2, 'b')",
    f"CREATE DEFINER = root@localhost FUNCTION {DB}.bump() RETURNS INT SQL SECURITY DEFINER "
    + BUMP,
    f"CREATE DEFINER = root@localhost FUNCTION {DB}.regexp_like(a TEXT, b TEXT) RETURNS INT "
    "SQL SECURITY DEFINER " + BUMP,
    f"CREATE DEFINER = root@localhost FUNCTION {DB}.is_uuid(a TEXT) RETURNS INT "
    "SQL SECURITY DEFINER " + BUMP,
    (f"CREATE DEFINER = root@localhost SQL SECURITY DEFINER VIEW {DB}.v AS "
    f"SELECT id, {DB}.bump() AS x FROM {DB}.item"),
    f"CREATE DEFINER = root@localhost SQL SECURITY DEFINER VIEW {DB}.vv AS SELECT id FROM {DB}.v",
    f"CREATE VIEW {DB}.plain_view AS SELECT id + 1 AS y FROM {DB}.item",
    f"GRANT EXECUTE ON {DB}.* TO '{servers.USER}'@'%'",
]

ATTACKS = {
    "definer-view": "SELECT * FROM v",
    "view-of-definer-view": "SELECT id FROM vv",
    "missing-builtin-regexp-like": "SELECT id FROM item WHERE REGEXP_LIKE(name, 'a')",
    "missing-builtin-is-uuid": "SELECT IS_UUID(name) FROM item",
    "uninterruptible-regexp-replace": "SELECT REGEXP_REPLACE(name, 'a', 'b') FROM item",
}


@pytest.fixture(scope="module")
def trap_server(mariadb_server):
    for stmt in SETUP:
        mariadb_server.admin_execute(stmt)
    yield mariadb_server
    mariadb_server.admin_execute(f"REVOKE EXECUTE ON {DB}.* FROM '{servers.USER}'@'%'")
    mariadb_server.admin_execute(f"DROP DATABASE {DB}")


def _max_connections(server) -> int:
    return int(server.admin_query("SELECT @@GLOBAL.max_connections")[0][0])


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_routines_reached_implicitly_are_refused(trap_server, name):
    before = _max_connections(trap_server)
    # opted in past the connect-time refusal below: each statement must still be refused
    manager = DatabaseManager("mysql", trap_server.config(database=DB), timeout=5.0,
                              max_workers=1, allow_privileged_account=True)
    try:
        assert manager.execute(DB, "SELECT y FROM plain_view ORDER BY y").rows == ((2,), (3,))
        for run in (manager.execute, manager.explain):
            res = run(DB, ATTACKS[name])
            assert res.status is ExecStatus.FORBIDDEN, (name, res)
    finally:
        manager.close()
    assert _max_connections(trap_server) == before


def test_an_account_that_can_run_definer_routines_is_refused_at_connect(trap_server):
    from sqlsynth.errors import PrivilegedAccountError

    before = _max_connections(trap_server)
    with pytest.raises(PrivilegedAccountError) as info:
        DatabaseManager("mysql", trap_server.config(database=DB)).list_databases()
    message = str(info.value)
    assert f"{DB}.bump" in message and "SQL SECURITY DEFINER" in message
    assert f"view {DB}.v " in message  # the DEFINER view calling it
    assert "REVOKE EXECUTE" in message and "SQL SECURITY INVOKER" in message
    assert _max_connections(trap_server) == before


def test_a_statement_kill_query_cannot_stop_is_escalated_and_reported(mariadb_server):
    # Allowed by name, MariaDB's REGEXP_REPLACE runs past KILL QUERY (its cost is quadratic
    # and it never checks the kill flag): the caller still returns at the limit, sqlsynth
    # escalates to KILL CONNECTION (the thread shows as Killed) and, the statement still
    # running, counts it as unended instead of saying it ended.
    from tests.db import dataset

    sql = "SELECT LENGTH(REGEXP_REPLACE(REPEAT('a', 80000), 'a', 'bb'))"
    manager = DatabaseManager("mysql", mariadb_server.config(), timeout=1.0, max_workers=1,
                              allowed_functions=["regexp_replace"])
    watch = ("SELECT COMMAND FROM information_schema.PROCESSLIST WHERE INFO LIKE "
             "'%REGEXP_REPLACE(REPEAT(%' AND INFO NOT LIKE '%PROCESSLIST%'")
    try:
        assert manager.execute(dataset.DB_ID, "SELECT 1").ok  # the worker is up
        start = time.monotonic()
        result = manager.execute(dataset.DB_ID, sql)
        assert result.status is ExecStatus.TIMEOUT, result
        assert time.monotonic() - start < 1.0 + 2.5  # the caller never waits for the server
        commands: list = []
        deadline = time.monotonic() + 8.0
        while time.monotonic() < deadline and manager.engine.unended == 0:
            commands = [r[0] for r in mariadb_server.admin_query(watch)]
            time.sleep(0.2)
        assert manager.engine.unended == 1
        assert commands in ([], ["Killed"])  # escalated past KILL QUERY (or just ended)
    finally:
        manager.close()
        end = time.monotonic() + 60
        while mariadb_server.admin_query(watch) and time.monotonic() < end:
            time.sleep(0.5)  # let the server finish it before other tests
