"""Fixtures of the sampler tests: an awkward schema (reserved and quoted names, composite and
self-referencing keys, a view, an empty table) on each engine."""

from __future__ import annotations

import sqlite3

import pytest

from sqlsynth.db import DatabaseManager
from tests.db.conftest import ENGINES, mariadb_server, postgres_server  # noqa: F401

AWKWARD = "awk"


def _q(name: str, dialect: str) -> str:
    if dialect == "mysql":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def awkward_statements(dialect: str) -> list[str]:
    q = lambda name: _q(name, dialect)
    money = "NUMERIC(10,2)"
    out = [
        (f"CREATE TABLE {q('Order')} ({q('order id')} INTEGER PRIMARY KEY, "
        f"{q('select')} VARCHAR(40), {q('Total Amount')} {money}, {q('from')} VARCHAR(10))"),
        (f"CREATE TABLE {q('line item')} ({q('order id')} INTEGER NOT NULL, "
        f"{q('line no')} INTEGER NOT NULL, qty INTEGER, {q('group')} VARCHAR(20), "
        f"PRIMARY KEY ({q('order id')}, {q('line no')}), "
        f"FOREIGN KEY ({q('order id')}) REFERENCES {q('Order')} ({q('order id')}))"),
        (f"CREATE TABLE shipment (id INTEGER PRIMARY KEY, order_ref INTEGER, line_ref INTEGER, "
        f"carrier VARCHAR(20), weight INTEGER, FOREIGN KEY (order_ref, line_ref) REFERENCES "
        f"{q('line item')} ({q('order id')}, {q('line no')}))"),
        ("CREATE TABLE employee (id INTEGER PRIMARY KEY, name VARCHAR(30), salary INTEGER, "
        "manager_id INTEGER, FOREIGN KEY (manager_id) REFERENCES employee (id))"),
        f"CREATE TABLE {q('empty table')} (id INTEGER PRIMARY KEY, label VARCHAR(20))",
    ]
    orders = [(i, f"it's {w}", f"{10 + 7.5 * i:.2f}", f"2024-0{1 + i % 9}-1{i % 10}")
              for i, w in enumerate(["red", "blue", "green", "blue", "red", "teal", "gold",
                                     "blue"], start=1)]
    for i, sel, total, when in orders:
        sel_sql = sel.replace("'", "''")
        out.append(f"INSERT INTO {q('Order')} VALUES ({i}, '{sel_sql}', {total}, '{when}')")
        for line in (1, 2):
            out.append(f"INSERT INTO {q('line item')} VALUES ({i}, {line}, {i * line % 5 + 1}, "
                       f"'{['a', 'b', 'c'][(i + line) % 3]}')")
            out.append(f"INSERT INTO shipment VALUES ({i * 10 + line}, {i}, {line}, "
                       f"'{['DHL', 'UPS'][i % 2]}', {i * line * 3})")
    for i, (name, boss) in enumerate([("Ada", "NULL"), ("Bo", 1), ("Cy", 1), ("Di", 2),
                                      ("Ed", 2), ("Flo", 3)], start=1):
        out.append(f"INSERT INTO employee VALUES ({i}, '{name}', {1000 * i}, {boss})")
    out.append(f"CREATE VIEW {q('big orders')} AS SELECT {q('order id')}, {q('select')}, "
               f"{q('Total Amount')} FROM {q('Order')} WHERE {q('Total Amount')} > 30")
    return out


@pytest.fixture(params=ENGINES)
def awkward_manager(request, tmp_path):
    kind = request.param
    if kind == "sqlite":
        path = tmp_path / AWKWARD / f"{AWKWARD}.sqlite"
        path.parent.mkdir()
        conn = sqlite3.connect(path)
        for stmt in awkward_statements("sqlite"):
            conn.execute(stmt)
        conn.commit()
        conn.close()
        manager = DatabaseManager("sqlite", {"root_path": str(tmp_path)})
        yield manager
        manager.close()
        return
    server = request.getfixturevalue("mariadb_server" if kind == "mysql" else "postgres_server")
    if kind == "mysql":
        server.admin_execute(f"CREATE DATABASE {AWKWARD} CHARACTER SET utf8mb4")
    else:
        server.create_database(AWKWARD)
    try:
        conn = server.connect_as_user(AWKWARD)
        if kind == "mysql":
            with conn.cursor() as cur:
                for stmt in awkward_statements("mysql"):
                    cur.execute(stmt)
        else:
            for stmt in awkward_statements("postgres"):
                conn.execute(stmt)
            conn.commit()
        conn.close()
        manager = DatabaseManager(kind, server.config(databases=[AWKWARD]))
        yield manager
        manager.close()
    finally:
        force = " WITH (FORCE)" if kind == "postgres" else ""
        server.admin_execute(f"DROP DATABASE {AWKWARD}{force}")
