"""MariaDB: a statement KILL QUERY cannot stop still returns at the limit and is escalated.

In its own module: test_mysql_reach.py's trap grants the account EXECUTE on DEFINER routines
for the whole module, and this test needs the plain read-only account.
"""

from __future__ import annotations

import time

import pytest

from sqlsynth.db import DatabaseManager, ExecStatus

pytestmark = pytest.mark.servers


def test_a_statement_kill_query_cannot_stop_is_escalated_and_reported(mariadb_server):
    # Allowed by name, MariaDB's REGEXP_REPLACE runs past KILL QUERY (its cost is quadratic:
    # 200,000 characters outlast the 1 s limit plus both 2 s confirmation waits on an idle host
    # and it never checks the kill flag): the caller still returns at the limit, sqlsynth
    # escalates to KILL CONNECTION (the thread shows as Killed) and, the statement still
    # running, counts it as unended instead of saying it ended.
    from tests.db import dataset

    sql = "SELECT LENGTH(REGEXP_REPLACE(REPEAT('a', 200000), 'a', 'bb'))"
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
