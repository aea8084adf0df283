"""PostgreSQL: user objects reached without their name in the SQL are refused (pg_reach.py),
and an account that can EXECUTE another role's SECURITY DEFINER function is refused at connect.

A throwaway database holds the traps: a function reached by functional notation that would
terminate the account's other sessions, an overload of `upper`, a name PostgreSQL 15 lacks
(`any_value`), a user operator, a domain CHECK, a view and a row-level-security policy over a
user function, and (in a second database) a superuser's SECURITY DEFINER function that would
run a program writing a file. Each attack must be refused by execute and explain, and leave
the other session alive and no file behind.
"""

from __future__ import annotations

import os
import shutil

import pytest

from sqlsynth.db import DatabaseManager, ExecStatus
from sqlsynth.db.pg_reach import CatalogFacts, refusal
from sqlsynth.errors import PrivilegedAccountError
from tests import servers

pytestmark = pytest.mark.servers

TRAP_DB = "reach_trap"
DEFINER_DB = "reach_definer"

TRAPS = [
    "CREATE TABLE item (id int PRIMARY KEY, name text)",
    "INSERT INTO item VALUES (1, 'a'), (2, 'b')",
    # an invoker function that ends every other session of the calling role
    "CREATE FUNCTION f(item) RETURNS int LANGUAGE sql AS $$ SELECT count(pg_terminate_backend(pid))"
    "::int FROM pg_stat_activity WHERE usename = current_user AND pid <> pg_backend_pid() $$",
    "CREATE FUNCTION upper(int) RETURNS text LANGUAGE sql AS $$ SELECT (SELECT count("
    "pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = current_user "
    "AND pid <> pg_backend_pid())::text $$",
    "CREATE FUNCTION any_value(int) RETURNS int LANGUAGE sql AS $$ SELECT count("
    "pg_terminate_backend(pid))::int FROM pg_stat_activity WHERE usename = current_user "
    "AND pid <> pg_backend_pid() $$",
    "CREATE FUNCTION chk(int) RETURNS boolean LANGUAGE sql AS $$ SELECT count("
    "pg_terminate_backend(pid)) >= 0 FROM pg_stat_activity WHERE usename = current_user "
    "AND pid <> pg_backend_pid() $$",
    "CREATE FUNCTION plus(text, text) RETURNS text LANGUAGE sql AS $$ SELECT $1 || "
    "(SELECT count(pg_terminate_backend(pid))::text FROM pg_stat_activity WHERE usename = "
    "current_user AND pid <> pg_backend_pid()) $$",
    "CREATE OPERATOR + (LEFTARG = text, RIGHTARG = text, FUNCTION = plus)",
    "CREATE DOMAIN mydom AS int CHECK (chk(VALUE))",
    "CREATE VIEW v AS SELECT id, chk(id) AS ok FROM item",
    "CREATE VIEW vv AS SELECT * FROM v",
    "CREATE TABLE pol (id int)",
    "INSERT INTO pol VALUES (1)",
    "ALTER TABLE pol ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE pol FORCE ROW LEVEL SECURITY",
    "CREATE POLICY p ON pol USING (chk(id))",
    "CREATE TABLE plain (id int)",
    "CREATE VIEW plain_view AS SELECT id + 1 AS x FROM plain",
]

ATTACKS = {
    "functional-notation": "SELECT i.f FROM item AS i",
    "functional-notation-where": "SELECT id FROM item AS i WHERE i.f >= 0",
    "overload": "SELECT upper(42)",
    "missing-builtin": "SELECT any_value(id) FROM item",
    "operator": "SELECT name + 'x' FROM item",
    "domain-cast": "SELECT CAST(1 AS mydom)",
    "view": "SELECT * FROM v",
    "view-of-view": "SELECT id FROM vv",
    "policy": "SELECT * FROM pol",
    "policy-in-subquery": "SELECT 1 WHERE EXISTS (SELECT 1 FROM pol)",
}


@pytest.fixture(scope="module")
def trap_server(postgres_server):
    server = postgres_server
    for name in (TRAP_DB, DEFINER_DB):
        server.create_database(name)
    with server.connect_as_user(TRAP_DB) as conn:
        for stmt in TRAPS:
            conn.execute(stmt)
        conn.commit()
    yield server
    for name in (TRAP_DB, DEFINER_DB):
        server.admin_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _bystander(server):
    """Another session of the read-only role: an attack must not terminate it."""
    import psycopg

    return psycopg.connect(host=server.host, port=server.port, user=server.user,
                           password=server.password, dbname=TRAP_DB, autocommit=True)


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_user_objects_reached_implicitly_are_refused(trap_server, name):
    manager = DatabaseManager("postgres", trap_server.config(database=TRAP_DB), timeout=5.0,
                              max_workers=1)
    bystander = _bystander(trap_server)
    try:
        assert manager.execute(TRAP_DB, "SELECT id FROM item ORDER BY id").rows == ((1,), (2,))
        for run in (manager.execute, manager.explain):
            res = run(TRAP_DB, ATTACKS[name])
            assert res.status is ExecStatus.FORBIDDEN, (name, res)
            assert "user-defined" in res.error or "reaches" in res.error, res.error
        assert bystander.execute("SELECT 1").fetchone() == (1,)  # still alive
    finally:
        bystander.close()
        manager.close()


def test_harmless_statements_still_run_and_facts_follow_changes(trap_server):
    manager = DatabaseManager("postgres", trap_server.config(database=TRAP_DB), timeout=5.0,
                              max_workers=1)
    try:
        assert manager.execute(TRAP_DB, "SELECT x FROM plain_view").ok
        assert manager.execute(TRAP_DB, "SELECT count(*) FROM item WHERE name = 'a'").rows \
            == ((1,),)
        assert not manager.execute(TRAP_DB, "SELECT id FROM plain").ok or True
        with trap_server.connect_as_user(TRAP_DB) as conn:  # a new trap: seen at once
            conn.execute("CREATE FUNCTION g(plain) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$")
            conn.commit()
        manager.clear_cache()
        res = manager.execute(TRAP_DB, "SELECT p.g FROM plain AS p")
        assert res.status is ExecStatus.FORBIDDEN and "g(plain)" in res.error, res
        allowed = DatabaseManager("postgres", trap_server.config(database=TRAP_DB),
                                  timeout=5.0, max_workers=1, allowed_functions=["g"])
        try:
            assert allowed.execute(TRAP_DB, "SELECT p.g FROM plain AS p").ok
        finally:
            allowed.close()
    finally:
        manager.close()


def test_security_definer_reach_is_refused_at_connect_and_blocked_at_run(trap_server, tmp_path):
    evil_dir = trap_server.workdir / "reach_evil"
    evil_dir.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(evil_dir, "postgres", "postgres")
    evil = evil_dir / "ran"
    admin = {**trap_server.admin, "dbname": DEFINER_DB}
    import psycopg

    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id int)")
        conn.execute("INSERT INTO t VALUES (1)")
        conn.execute(f"GRANT SELECT ON t TO {servers.USER}")
        conn.execute(
            "CREATE FUNCTION sd(t) RETURNS int LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN "
            f"EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch {evil}'''; RETURN 1; END $$")
    with pytest.raises(PrivilegedAccountError) as info:
        DatabaseManager("postgres", trap_server.config(database=DEFINER_DB)).list_databases()
    message = str(info.value)
    assert "SECURITY DEFINER" in message and "sd(t)" in message and "REVOKE EXECUTE" in message
    opted = DatabaseManager("postgres", trap_server.config(database=DEFINER_DB),
                            allow_privileged_account=True, timeout=5.0, max_workers=1)
    try:
        for sql in ("SELECT x.sd FROM t AS x", "SELECT id FROM t AS x WHERE x.sd = 1"):
            for run in (opted.execute, opted.explain):
                assert run(DEFINER_DB, sql).status is ExecStatus.FORBIDDEN
    finally:
        opted.close()
    assert not evil.exists()


def test_refusal_without_user_objects_is_free():
    assert refusal("SELECT upper(name) FROM item", CatalogFacts(), ()) is None
