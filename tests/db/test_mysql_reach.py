"""MariaDB: stored routines reached without the guard seeing them are refused (mysql_reach.py).

A throwaway database holds a DEFINER view over a root-owned stored function that changes a
server global, a second view over that view, and stored functions named like built-ins this
server version lacks (REGEXP_LIKE, IS_UUID on 10.11), the account holding EXECUTE on them.
Every attack must be refused by execute and explain and leave max_connections unchanged;
MariaDB's uninterruptible REGEXP_REPLACE family is refused outright.
"""

from __future__ import annotations

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
