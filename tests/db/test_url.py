"""URL parsing and SQLite folder discovery rules."""

from __future__ import annotations

import sqlite3

import pytest

from sqlsynth.db import DatabaseManager, parse_database_url
from sqlsynth.db.engines.sqlite import discover, parse_column_comments


@pytest.mark.parametrize(
    ("url", "db_type", "config"),
    [
        ("sqlite:///data/dbs", "sqlite", {"root_path": "data/dbs"}),
        ("sqlite:////abs/x.sqlite", "sqlite", {"root_path": "/abs/x.sqlite"}),
        (
            "mysql://u:p%40w@db.local:3307/",
            "mysql",
            {"host": "db.local", "port": 3307, "user": "u", "password": "p@w"},
        ),
        ("mariadb+pymysql://u@h/shop", "mysql", {"host": "h", "user": "u", "database": "shop"}),
        (
            "postgresql://u:p@h:5433/?databases=a,b",
            "postgres",
            {"host": "h", "port": 5433, "user": "u", "password": "p", "databases": ["a", "b"]},
        ),
        ("postgres://u@h/x", "postgres", {"host": "h", "user": "u", "database": "x"}),
    ],
)
def test_parse_url(url, db_type, config):
    assert parse_database_url(url) == (db_type, config)


def test_bad_urls():
    with pytest.raises(ValueError, match="unsupported"):
        parse_database_url("oracle://u@h/")
    with pytest.raises(ValueError, match="unknown URL parameters"):
        parse_database_url("mysql://u@h/?foo=1")


def _db(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (a INTEGER)")
    conn.commit()
    conn.close()


def test_sqlite_discovery_rules(tmp_path):
    _db(tmp_path / "spider" / "spider.sqlite")  # folder layout -> folder name
    _db(tmp_path / "flat.db")  # directly in root -> stem
    _db(tmp_path / "renamed" / "data.sqlite3")  # folder with one file -> folder name
    _db(tmp_path / "multi" / "one.db")  # folder with several files -> stems
    _db(tmp_path / "multi" / "two.db")
    (tmp_path / "notes.db").write_text("not a database")
    assert sorted(discover(tmp_path)) == ["flat", "one", "renamed", "spider", "two"]
    assert list(discover(tmp_path / "flat.db")) == ["flat"]


def test_sqlite_duplicate_db_ids_are_an_error(tmp_path):
    _db(tmp_path / "x.db")
    _db(tmp_path / "x" / "y.sqlite")
    with pytest.raises(ValueError, match="two SQLite files"):
        discover(tmp_path)


def test_from_path_or_url(tmp_path):
    _db(tmp_path / "a" / "a.sqlite")
    assert DatabaseManager.from_path_or_url(str(tmp_path)).list_databases() == ["a"]
    manager = DatabaseManager.from_url(f"sqlite:///{tmp_path}")
    assert manager.db_type == "sqlite" and manager.engine_name == "SQLite"
    with pytest.raises(FileNotFoundError):
        DatabaseManager("sqlite", {"root_path": str(tmp_path / "missing")})


def test_comment_parsing():
    ddl = """CREATE TABLE "singer" ( -- people who sing
      singer_id INTEGER PRIMARY KEY, -- unique id
      "Full Name" TEXT DEFAULT '--not a comment', -- full name
      age INT,
      country TEXT -- country of birth
      , FOREIGN KEY (age) REFERENCES a(b) -- not a column
    )"""
    comments, table_comment = parse_column_comments(ddl)
    assert comments == {
        "singer_id": "unique id",
        "full name": "full name",
        "country": "country of birth",
    }
    assert table_comment == "people who sing"


def test_block_comment_parsing():
    ddl = """CREATE TABLE orders /* one row per order */ (
      id INTEGER PRIMARY KEY, /* order number */
      note TEXT DEFAULT '/* not a comment */',
      status TEXT /* O = open,
                     S = shipped */ NOT NULL,
      total REAL -- in EUR
    )"""
    comments, table_comment = parse_column_comments(ddl)
    assert comments == {"id": "order number", "status": "O = open, S = shipped", "total": "in EUR"}
    assert table_comment == "one row per order"


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        ("postgresql://me:secret@127.0.0.1:5432/db", "postgresql://me:***@127.0.0.1:5432/db"),
        ("mysql://me:p%40w@h:3307/?databases=a,b", "mysql://me:***@h:3307/?databases=a%2Cb"),
        ("mysql://me@host/", "mysql://me@host/"),
        ("sqlite:///data/dbs", "sqlite:///data/dbs"),
    ],
)
def test_masked_url_hides_only_the_password(target, shown):
    from sqlsynth.db.url import masked_url

    assert masked_url(target) == shown


def test_database_identity_is_a_url_without_password_or_an_absolute_path(tmp_path):
    from sqlsynth.db.url import database_identity

    assert "secret" not in database_identity("postgresql://me:secret@127.0.0.1/db")
    assert database_identity("postgresql://me:secret@127.0.0.1/db") == \
        database_identity("postgresql://me:other@127.0.0.1/db")
    assert database_identity("postgresql://me@127.0.0.1/db") != \
        database_identity("postgresql://me@127.0.0.1/other")
    assert database_identity(str(tmp_path)) == str(tmp_path.resolve())


def test_a_bad_url_is_reported_without_its_password():
    with pytest.raises(ValueError) as info:
        parse_database_url("postgresql://me:secret@host:notaport/db")
    assert "secret" not in str(info.value)


def test_engine_aliases_are_one_table():
    from sqlsynth.db.url import db_type_of

    assert [db_type_of(n) for n in ("sqlite", "MariaDB", "mysql+pymysql", "pg", "oracle")] == \
        ["sqlite", "mysql", "mysql", "postgres", None]
