"""One small database, loaded identically into SQLite, MariaDB and PostgreSQL.

Comments are stored the way each engine keeps them: `-- text` after the column in SQLite's
CREATE TABLE, COMMENT '...' in MySQL, COMMENT ON COLUMN in PostgreSQL.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

DB_ID = "concert"
OTHER_DB_ID = "pets"

# (name, type, comment, primary key?, references)
TABLES: dict[str, list[tuple[str, str, str | None, bool, str | None]]] = {
    "stadium": [
        ("stadium_id", "INTEGER", "unique stadium number", True, None),
        ("name", "VARCHAR(100)", "official name", False, None),
        ("capacity", "INTEGER", "number of seats", False, None),
        ("city", "VARCHAR(100)", None, False, None),
    ],
    "singer": [
        ("singer_id", "INTEGER", None, True, None),
        ("name", "VARCHAR(100)", "full name", False, None),
        ("country", "VARCHAR(100)", "country of birth", False, None),
        ("age", "INTEGER", None, False, None),
    ],
    "concert": [
        ("concert_id", "INTEGER", None, True, None),
        ("singer_id", "INTEGER", "who sang", False, "singer.singer_id"),
        ("stadium_id", "INTEGER", None, False, "stadium.stadium_id"),
        ("year", "INTEGER", None, False, None),
        ("fee", "DOUBLE PRECISION", "fee in euros", False, None),
    ],
}
ROWS: dict[str, list[tuple]] = {
    "stadium": [
        (1, "Raith Rovers", 10104, "Kirkcaldy"),
        (2, "Ayr United", 11998, "Ayr"),
        (3, "Hampden", 52500, "Glasgow"),
    ],
    "singer": [
        (1, "Joe Sharp", "Netherlands", 52),
        (2, "Timbaland", "United States", 32),
        (3, "Justin Brown", "France", 29),
        (4, "Rose White", "France", 41),
        (5, "John Nizinik", None, 43),
    ],
    "concert": [
        (1, 1, 1, 2014, 1000.5),
        (2, 2, 1, 2014, 2500.0),
        (3, 3, 2, 2015, 800.25),
        (4, 3, 3, 2015, 1200.0),
        (5, 4, 3, 2016, None),
    ],
}
OTHER_TABLES = {
    "pet": [("pet_id", "INTEGER", None, True, None), ("kind", "VARCHAR(20)", None, False, None)]
}
OTHER_ROWS = {"pet": [(1, "cat"), (2, "dog")]}

COUNTS = {name: len(rows) for name, rows in ROWS.items()}


def _column_sql(col: tuple, dialect: str) -> str:
    name, typ, comment, pk, _ = col
    sql = f"{name} {typ}"
    if pk:
        sql += " PRIMARY KEY"
    if name == "name" and dialect != "sqlite":
        sql += " NOT NULL"
    if comment and dialect == "mysql":
        sql += " COMMENT '" + comment.replace("'", "''") + "'"
    return sql


def create_statements(tables: dict, dialect: str) -> list[str]:
    out = []
    for table, cols in tables.items():
        parts = [_column_sql(c, dialect) for c in cols]
        fks = [
            f"FOREIGN KEY ({c[0]}) REFERENCES {c[4].split('.')[0]}({c[4].split('.')[1]})"
            for c in cols
            if c[4]
        ]
        if dialect == "sqlite":
            lines = []
            items = parts + fks
            for i, (item, col) in enumerate(zip(items, cols + [None] * len(fks))):
                comma = "," if i < len(items) - 1 else ""
                note = f" -- {col[2]}" if col and col[2] else ""
                lines.append(f"  {item}{comma}{note}")
            out.append(f"CREATE TABLE {table} (\n" + "\n".join(lines) + "\n)")
        else:
            out.append(f"CREATE TABLE {table} (" + ", ".join(parts + fks) + ")")
        if dialect == "postgres":
            for c in cols:
                if c[2]:
                    out.append(f"COMMENT ON COLUMN {table}.{c[0]} IS '{c[2]}'")
    return out


def insert_statements(rows: dict, dialect: str) -> list[tuple[str, list[tuple]]]:
    mark = "?" if dialect == "sqlite" else "%s"
    return [
        (f"INSERT INTO {t} VALUES ({', '.join([mark] * len(r[0]))})", r) for t, r in rows.items()
    ]


def build_sqlite(root: Path) -> dict[str, Path]:
    """Spider layout: root/<db_id>/<db_id>.sqlite."""
    paths = {}
    for db_id, tables, rows in _databases():
        folder = root / db_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{db_id}.sqlite"
        conn = sqlite3.connect(path)
        for stmt in create_statements(tables, "sqlite"):
            conn.execute(stmt)
        for stmt, data in insert_statements(rows, "sqlite"):
            conn.executemany(stmt, data)
        conn.commit()
        conn.close()
        paths[db_id] = path
    return paths


def _databases():
    return ((DB_ID, TABLES, ROWS), (OTHER_DB_ID, OTHER_TABLES, OTHER_ROWS))


def load_mysql(server) -> None:
    for db_id, tables, rows in _databases():
        server.create_database(db_id)
        conn = server.connect_as_user(db_id)
        with conn.cursor() as cur:
            for stmt in create_statements(tables, "mysql"):
                cur.execute(stmt)
            for stmt, data in insert_statements(rows, "mysql"):
                cur.executemany(stmt, data)
        conn.close()


def load_postgres(server) -> None:
    for db_id, tables, rows in _databases():
        server.create_database(db_id)
        with server.connect_as_user(db_id) as conn:
            for stmt in create_statements(tables, "postgres"):
                conn.execute(stmt)
            with conn.cursor() as cur:
                for stmt, data in insert_statements(rows, "postgres"):
                    cur.executemany(stmt, data)
            conn.commit()
