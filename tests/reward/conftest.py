"""The tests/db fixtures (the test database on SQLite, throwaway MariaDB and PostgreSQL)."""

from tests.db.conftest import (  # noqa: F401 - fixtures, found by name
    engine_kind,
    make_manager,
    mariadb_server,
    postgres_server,
    sqlite_root,
)
