"""The statement guard: one read-only SELECT/WITH, everything else refused."""

from __future__ import annotations

import pytest

from sqlsynth.db.guard import check_read_only
from sqlsynth.db.result import ExecStatus

ALLOWED = [
    ("sqlite", "SELECT 1"),
    ("sqlite", "  select * from t ;  -- trailing comment"),
    ("sqlite", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT * FROM c"),
    ("sqlite", "(SELECT a FROM t) UNION SELECT b FROM u"),
    ("sqlite", "SELECT replace(name, 'a', 'b') FROM t WHERE \"update\" = 'drop table'"),
    ("mysql", "SELECT truncate(price, 2) FROM t"),
    ("mysql", "SELECT SLEEP(1)"),
    ("postgres", "SELECT pg_sleep(1)"),
    ("postgres", "SELECT a FROM t ORDER BY a LIMIT 3"),
]

REFUSED = [
    ("sqlite", "INSERT INTO t VALUES (1)"),
    ("sqlite", "UPDATE t SET a = 1"),
    ("sqlite", "DELETE FROM t"),
    ("sqlite", "DROP TABLE t"),
    ("sqlite", "CREATE TABLE x (a)"),
    ("sqlite", "ATTACH DATABASE 'x.db' AS x"),
    ("sqlite", "DETACH DATABASE x"),
    ("sqlite", "PRAGMA query_only = 0"),
    ("sqlite", "VACUUM INTO '/tmp/x'"),
    ("sqlite", "SELECT load_extension('evil')"),
    ("sqlite", "SELECT writefile('/tmp/x', 'y')"),
    ("sqlite", "SELECT 1; SELECT 2"),
    ("sqlite", "SELECT 1; DROP TABLE t"),
    ("mysql", "SET SESSION max_statement_time = 0"),
    ("mysql", "SELECT * FROM t INTO OUTFILE '/tmp/x'"),
    ("mysql", "SELECT * FROM t INTO DUMPFILE '/tmp/x'"),
    ("mysql", "SELECT * FROM t FOR UPDATE"),
    ("mysql", "SELECT * FROM t LOCK IN SHARE MODE"),
    ("mysql", "SELECT 1 /*!, (SELECT 1 FROM t FOR UPDATE) */"),
    ("mysql", "SELECT LOAD_FILE('/etc/passwd')"),
    ("mysql", "LOAD DATA INFILE '/tmp/x' INTO TABLE t"),
    ("mysql", "CALL p()"),
    ("postgres", "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d"),
    ("postgres", "SELECT * INTO newt FROM t"),
    ("postgres", "SELECT set_config('statement_timeout', '0', false)"),
    ("postgres", "SELECT nextval('s')"),
    ("postgres", "COPY t TO '/tmp/x'"),
    ("postgres", "SELECT * FROM t FOR SHARE"),
    ("postgres", "SET statement_timeout = 0"),
    ("postgres", "BEGIN"),
]


@pytest.mark.parametrize(("dialect", "sql"), ALLOWED)
def test_allowed(dialect, sql):
    decision = check_read_only(sql, dialect)
    assert decision.allowed, decision
    assert not decision.sql.endswith(";")


@pytest.mark.parametrize(("dialect", "sql"), REFUSED)
def test_refused(dialect, sql):
    decision = check_read_only(sql, dialect)
    assert decision.status is ExecStatus.FORBIDDEN, decision
    assert decision.reason


def test_trailing_semicolon_and_comment_are_stripped():
    assert check_read_only("SELECT 1 ; ; -- done", "sqlite").sql == "SELECT 1"


@pytest.mark.parametrize("sql", ["", "   ", ";", "selec 1", "SELECT 'unterminated"])
def test_not_a_statement_is_a_syntax_error(sql):
    assert check_read_only(sql, "sqlite").status is ExecStatus.SYNTAX_ERROR


def test_unparseable_query_reaches_the_engine():
    # sqlglot cannot parse this, but it starts as a query and contains no write keyword.
    decision = check_read_only("SELECT a FROM t WHERE", "sqlite")
    assert decision.allowed
