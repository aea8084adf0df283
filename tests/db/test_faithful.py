"""The guard's rendering means what the statement says, or the statement is refused.

Unit checks on the three ways sqlglot's parse-and-write changed a statement (names it
translates, parts it drops, spellings it changes), then the same statements on a real MariaDB:
what DatabaseManager runs gives the rows the server gives for the text as written.
"""

from __future__ import annotations

import pytest

from sqlsynth.db import DatabaseManager, ExecStatus
from sqlsynth.db.guard import check_read_only
from tests.db import dataset

#: MySQL spellings sqlglot used to rewrite (a table `DUAL`, a tuple interval, DATE_ADD)
MYSQL_KEPT = [
    "SELECT 1 FROM DUAL",
    "SELECT 1 AS one FROM DUAL WHERE 1 = 1",
    "SELECT INTERVAL(5, 1, 10)",
    "SELECT INTERVAL(23, 1, 15, 17, 30, 44, 200)",
    "SELECT TIMESTAMPADD(DAY, 1, '2020-01-31')",
    "SELECT TIMESTAMPADD(MONTH, 1, '2020-01-31')",
    "SELECT TIMESTAMPADD(MINUTE, 90, '2020-01-31 10:00:00')",
]

#: (dialect, statement): a name the engine lacks, or a part sqlglot would drop
REFUSED = [
    ("sqlite", "SELECT to_hex(1, 2)", "not a built-in"),
    ("sqlite", "SELECT to_hex(255)", "not a built-in"),
    ("sqlite", "SELECT hex(1, 2)", "drop"),
    ("sqlite", "SELECT hex(name, 'x') FROM singer", "drop"),
    ("mysql", "SELECT NVL(NULL, 1)", "not a built-in"),
    ("postgres", "SELECT ifnull(NULL, 1)", "not a built-in"),
]


@pytest.mark.parametrize("sql", MYSQL_KEPT)
def test_mysql_native_spellings_are_sent_as_written(sql: str) -> None:
    decision = check_read_only(sql, "mysql")
    assert decision.allowed, decision.reason
    assert "`DUAL`" not in decision.sql and "((" not in decision.sql
    assert "DATE_ADD" not in decision.sql


@pytest.mark.parametrize(("dialect", "sql", "why"), REFUSED)
def test_translated_names_and_dropped_parts_are_refused_with_the_reason(
        dialect: str, sql: str, why: str) -> None:
    decision = check_read_only(sql, dialect)
    assert not decision.allowed and decision.status is ExecStatus.FORBIDDEN
    assert why in decision.reason


def test_bare_names_stay_bare_so_the_server_folds_them_as_written() -> None:
    # PostgreSQL's bare ``user`` is CURRENT_USER; quoted it would be a column
    decision = check_read_only("SELECT user, Name FROM Singer", "postgres")
    assert decision.allowed and decision.sql == "SELECT user, Name FROM Singer"


@pytest.mark.servers
@pytest.mark.parametrize("sql", MYSQL_KEPT)
def test_mariadb_runs_what_the_text_says(mariadb_server, sql: str) -> None:
    expected = mariadb_server.admin_query(sql, dataset.DB_ID)
    manager = DatabaseManager("mysql", mariadb_server.config(), timeout=5.0)
    try:
        result = manager.execute(dataset.DB_ID, sql)
    finally:
        manager.close()
    assert result.status is ExecStatus.OK, result.error
    assert [tuple(str(v) for v in row) for row in result.rows] == \
        [tuple(str(v) for v in row) for row in expected]
