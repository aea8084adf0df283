"""A server that refuses the login, or a missing database, is one clear error, not a traceback."""

from __future__ import annotations

import pytest

from sqlsynth.db import DatabaseManager
from sqlsynth.errors import DatabaseUnavailableError, is_user_error

SERVER_FIXTURE = {"mysql": "mariadb_server", "postgres": "postgres_server"}


@pytest.mark.parametrize("db_type", ["mysql", "postgres"])
def test_wrong_password_names_server_and_user_not_password(
    db_type: str, request: pytest.FixtureRequest
) -> None:
    server = request.getfixturevalue(SERVER_FIXTURE[db_type])
    manager = DatabaseManager(db_type, server.config(password="not-the-Passw0rd"))
    try:
        with pytest.raises(DatabaseUnavailableError) as caught:
            manager.list_databases()
    finally:
        manager.close()
    message = str(caught.value)
    assert f"{server.host}:{server.port}" in message and f"as {server.user}" in message
    assert "not-the-Passw0rd" not in message
    assert is_user_error(caught.value)


def test_missing_postgres_database_is_named(postgres_server) -> None:
    manager = DatabaseManager("postgres", postgres_server.config(databases=["no_such_db"]))
    try:
        with pytest.raises(DatabaseUnavailableError, match="no_such_db"):
            manager.list_databases()
    finally:
        manager.close()
