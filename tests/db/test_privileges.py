"""Least privilege at connect (issue 8, item 3): privileged accounts are refused unless the
user opts out; accounts with ordinary write privileges get one warning line."""

from __future__ import annotations

import logging

import pytest

from sqlsynth.cli import build_parser
from sqlsynth.config import RunConfig
from sqlsynth.db import DatabaseManager, privileges
from sqlsynth.errors import DatabaseUnavailableError, PrivilegedAccountError, is_user_error
from tests import servers
from tests.db import dataset

SERVER_FIXTURE = {"mysql": "mariadb_server", "postgres": "postgres_server"}


def test_mysql_grants_are_judged_by_an_allowlist():
    report = privileges.judge_mysql_grants([
        "GRANT SELECT, SHOW VIEW ON *.* TO `ro`@`%` IDENTIFIED BY PASSWORD '*ABC'",
        "GRANT SELECT (a, b), INSERT ON `shop`.`t` TO `ro`@`%`",
    ])
    assert report.dangerous == [] and report.writes == ["INSERT ON shop.t"]
    for grant, why in [
        ("GRANT FILE ON *.* TO `u`@`%`", "FILE ON *.*"),
        ("GRANT SUPER ON *.* TO `u`@`%`", "SUPER ON *.*"),
        ("GRANT ALL PRIVILEGES ON *.* TO `u`@`%` WITH GRANT OPTION", "ALL PRIVILEGES ON *.*"),
        ("GRANT USAGE ON *.* TO `u`@`%` WITH GRANT OPTION", "GRANT OPTION ON *.*"),
        ("GRANT BINLOG ADMIN, READ_ONLY ADMIN ON *.* TO `u`@`%`", "READ_ONLY ADMIN ON *.*"),
        ("GRANT SYSTEM_VARIABLES_ADMIN ON *.* TO `u`@`%`", "SYSTEM_VARIABLES_ADMIN ON *.*"),
        ("GRANT SET USER, SHUTDOWN ON *.* TO `u`@`%`", "SHUTDOWN ON *.*"),
    ]:
        assert why in privileges.judge_mysql_grants([grant]).dangerous, grant
    db_level = privileges.judge_mysql_grants(["GRANT ALL PRIVILEGES ON `shop`.* TO `u`@`%`"])
    assert db_level.dangerous == [] and db_level.writes == ["ALL PRIVILEGES ON shop.*"]


def test_refusal_message_says_why_and_how_without_a_password():
    report = privileges.AccountReport(dangerous=["FILE ON *.*"])
    with pytest.raises(PrivilegedAccountError) as caught:
        privileges.enforce(report, engine="MySQL", where="db:3306", user="admin",
                           statements=privileges.mysql_read_only_statements(["shop"]),
                           allow_privileged=False)
    text = str(caught.value)
    assert "FILE ON *.*" in text and "CREATE USER 'sqlsynth_ro'@'%'" in text
    assert "GRANT SELECT, SHOW VIEW ON `shop`.* TO 'sqlsynth_ro'@'%';" in text
    assert "--allow-privileged-account" in text and privileges.PASSWORD_PLACEHOLDER in text
    assert isinstance(caught.value, DatabaseUnavailableError) and is_user_error(caught.value)


def test_opt_out_is_a_config_key_and_a_flag():
    assert RunConfig().allow_privileged_account is False
    assert RunConfig.load(None, allow_privileged_account=True).allow_privileged_account is True
    args = build_parser().parse_args(["schema", "--db", "x.sqlite", "--allow-privileged-account"])
    assert args.allow_privileged_account is True
    assert build_parser().parse_args(["schema", "--db", "x"]).allow_privileged_account is None


@pytest.mark.servers
@pytest.mark.parametrize("kind", ["mysql", "postgres"])
def test_privileged_account_is_refused_with_the_fix(kind, request):
    server = request.getfixturevalue(SERVER_FIXTURE[kind])
    manager = DatabaseManager(kind, server.config(privileged=True))
    try:
        with pytest.raises(PrivilegedAccountError) as caught:
            manager.list_databases()
        res = manager.execute(dataset.DB_ID, "SELECT 1")  # never an exception out of execute
        assert not res.ok and "refusing" in (res.error or "")
    finally:
        manager.close()
    text = str(caught.value)
    user, password = server.privileged
    assert repr(user) in text and password not in text and server.password not in text
    why = "superuser" if kind == "postgres" else "ALL PRIVILEGES ON *.*"
    assert why in text
    assert ("GRANT pg_read_all_data" if kind == "postgres" else "GRANT SELECT, SHOW VIEW") in text


@pytest.mark.servers
@pytest.mark.parametrize("kind", ["mysql", "postgres"])
def test_opt_out_proceeds_with_a_warning(kind, request, caplog):
    server = request.getfixturevalue(SERVER_FIXTURE[kind])
    manager = DatabaseManager(kind, server.config(privileged=True), allow_privileged_account=True)
    try:
        with caplog.at_level(logging.WARNING, logger="sqlsynth.db"):
            assert dataset.DB_ID in manager.list_databases()
        assert manager.execute(dataset.DB_ID, "SELECT count(*) FROM singer").ok
    finally:
        manager.close()
    assert any("allow_privileged_account" in r.getMessage() for r in caplog.records)


@pytest.mark.servers
@pytest.mark.parametrize("kind", ["mysql", "postgres"])
def test_read_only_account_runs_silently(kind, request, caplog):
    server = request.getfixturevalue(SERVER_FIXTURE[kind])
    manager = DatabaseManager(kind, server.config())
    try:
        with caplog.at_level(logging.WARNING, logger="sqlsynth.db"):
            assert dataset.DB_ID in manager.list_databases()
            assert manager.execute(dataset.DB_ID, "SELECT count(*) FROM singer").ok
    finally:
        manager.close()
    assert not [r for r in caplog.records if r.name == "sqlsynth.db"], caplog.records


@pytest.mark.servers
def test_owner_with_write_privileges_gets_one_warning_line(postgres_server, caplog):
    user, password = postgres_server.owner
    manager = DatabaseManager("postgres", postgres_server.config(user=user, password=password))
    try:
        with caplog.at_level(logging.WARNING, logger="sqlsynth.db"):
            assert dataset.DB_ID in manager.list_databases()
        assert manager.execute(dataset.DB_ID, "DELETE FROM concert").status.value == "forbidden"
    finally:
        manager.close()
    warnings = [r.getMessage() for r in caplog.records if r.name == "sqlsynth.db"]
    assert len(warnings) == 1 and "can write" in warnings[0] and "\n" not in warnings[0]


def test_test_servers_read_only_account_uses_the_printed_statements():
    stmts = servers.read_only_account_statements("postgres", "ro", "pw")
    assert stmts == ["CREATE ROLE ro LOGIN PASSWORD 'pw'", "GRANT pg_read_all_data TO ro"]
