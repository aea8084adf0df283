"""Session fixtures: the test database on SQLite, a throwaway MariaDB and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sqlsynth.db import DatabaseManager
from tests import servers
from tests.db import dataset

ENGINES = [
    "sqlite",
    pytest.param("mysql", marks=pytest.mark.servers),
    pytest.param("postgres", marks=pytest.mark.servers),
]


@pytest.fixture(scope="session")
def sqlite_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sqlite_dbs")
    dataset.build_sqlite(root)
    return root


def _start(start, load) -> Iterator[servers.Server]:
    try:
        server = start()
    except servers.ServerUnavailable as exc:
        servers.skip_or_fail(str(exc))
    try:
        load(server)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[servers.Server]:
    yield from _start(servers.start_mariadb, dataset.load_mysql)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[servers.Server]:
    yield from _start(servers.start_postgres, dataset.load_postgres)


@pytest.fixture(params=ENGINES)
def engine_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_manager(engine_kind: str, request: pytest.FixtureRequest):
    """Factory for a DatabaseManager on the parametrized engine (closed after the test)."""
    made: list[DatabaseManager] = []

    def make(**kw) -> DatabaseManager:
        if engine_kind == "sqlite":
            root = request.getfixturevalue("sqlite_root")
            manager = DatabaseManager("sqlite", {"root_path": str(root)}, **kw)
        elif engine_kind == "mysql":
            server = request.getfixturevalue("mariadb_server")
            manager = DatabaseManager("mysql", server.config(), **kw)
        else:
            server = request.getfixturevalue("postgres_server")
            manager = DatabaseManager("postgres", server.config(), **kw)
        made.append(manager)
        return manager

    yield make
    for manager in made:
        manager.close()


@pytest.fixture
def manager(make_manager) -> DatabaseManager:
    return make_manager(timeout=5.0)
