"""Names that need quoting (issue 8, item 7): spaces, reserved words, quotes, Unicode, mixed
case — introspected with their columns, and quoted correctly in every SQL sqlsynth builds
(samples, sample rows, row counts), on all three engines."""

from __future__ import annotations

import sqlite3

import pytest

from sqlsynth.db import DatabaseManager
from sqlsynth.engine.value_index import _count_sql, _select_distinct_sql

DB = "awkward"
TABLES = {
    "order details": ["order id", "unit price"],
    "group": ["select", "from"],
    "Ünïcödé таблица": ["名前", "café"],
    "MixedCase": ["CamelCol", "lower"],
    'has"quote': ['col"q', "it's"],
    "back`tick": ["a`b", "user"],
}


def _q(name: str, dialect: str) -> str:
    if dialect == "mysql":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def _statements(dialect: str) -> list[str]:
    out = []
    for table, cols in TABLES.items():
        body = ", ".join(f"{_q(c, dialect)} VARCHAR(40)" for c in cols)
        out.append(f"CREATE TABLE {_q(table, dialect)} ({body})")
        values = ", ".join("'" + f"{table[:3]}-{c[:3]}".replace("'", "''") + "'" for c in cols)
        out.append(f"INSERT INTO {_q(table, dialect)} VALUES ({values})")
    return out


@pytest.fixture
def awkward_manager(engine_kind, request, tmp_path):
    if engine_kind == "sqlite":
        path = tmp_path / DB / f"{DB}.sqlite"
        path.parent.mkdir()
        conn = sqlite3.connect(path)
        for stmt in _statements("sqlite"):
            conn.execute(stmt)
        conn.commit()
        conn.close()
        manager = DatabaseManager("sqlite", {"root_path": str(tmp_path)})
        yield manager
        manager.close()
        return
    server = request.getfixturevalue(
        "mariadb_server" if engine_kind == "mysql" else "postgres_server"
    )
    if engine_kind == "mysql":
        server.admin_execute(f"CREATE DATABASE {DB} CHARACTER SET utf8mb4")
    else:
        server.create_database(DB)
    try:
        conn = server.connect_as_user(DB)
        if engine_kind == "mysql":
            with conn.cursor() as cur:
                for stmt in _statements("mysql"):
                    cur.execute(stmt)
        else:
            for stmt in _statements("postgres"):
                conn.execute(stmt)
            conn.commit()
        conn.close()
        manager = DatabaseManager(engine_kind, server.config(databases=[DB]))
        yield manager
        manager.close()
    finally:
        force = " WITH (FORCE)" if engine_kind == "postgres" else ""
        server.admin_execute(f"DROP DATABASE {DB}{force}")


def test_awkward_names_are_introspected_with_columns_and_samples(awkward_manager):
    schema = awkward_manager.get_schema(DB)
    assert sorted(t.name for t in schema.tables) == sorted(TABLES)
    for name, cols in TABLES.items():
        table = schema.table(name)
        assert [c.name for c in table.columns] == cols, name
        for col in table.columns:
            assert col.samples == [f"{name[:3]}-{col.name[:3]}"], (name, col.name, col.samples)


def test_awkward_names_are_quoted_in_built_sql(awkward_manager):
    manager = awkward_manager
    dialect = manager.dialect
    for name, cols in TABLES.items():
        rows = manager.sample_rows(DB, name, 3)
        assert rows.ok and len(rows.rows) == 1, (name, rows)
        count = manager.execute(DB, _count_sql(name, dialect))
        assert count.ok and count.rows[0][0] == 1, (name, count)
        for col in cols:
            res = manager.execute(DB, _select_distinct_sql(name, col, dialect))
            assert res.ok and len(res.rows) == 1, (name, col, res)
    rendered = manager.render_create_statements(DB)
    for name in TABLES:
        assert _q(name, dialect) in rendered or name in rendered
