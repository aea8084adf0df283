"""Neighbour databases tell apart queries that agree on the real data by accident."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from sqlsynth.db import DatabaseManager
from sqlsynth.db.neighbours import NeighbourDatabases

SHOP = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT UNIQUE, city TEXT, age INTEGER);
INSERT INTO customers VALUES (1, 'Ada', 'Leeds', 31), (2, 'Bo', 'York', 45), (3, 'Cy', 'Leeds', 27),
  (4, 'Di', 'Hull', 52), (5, 'Ed', 'Leeds', 38), (6, 'Flo', 'York', 29);
"""
LEEDS = "SELECT COUNT(*) FROM customers WHERE city = 'Leeds'"


@pytest.fixture
def shop(tmp_path: Path):
    path = tmp_path / "dbs" / "shop.sqlite"
    path.parent.mkdir()
    with sqlite3.connect(path) as conn:
        conn.executescript(SHOP)
    dbm = DatabaseManager("sqlite", {"root_path": str(path.parent)})
    neighbours = NeighbourDatabases(dbm)
    yield dbm, neighbours, path
    neighbours.close()
    dbm.close()


def same(neighbours: NeighbourDatabases, a: str, b: str, ordered: bool = False):
    return asyncio.run(neighbours.asame_meaning("shop", a, b, ordered=ordered))


def test_a_bound_every_stored_row_passes_is_told_apart(shop):
    dbm, neighbours, _ = shop
    for bound in ("id <= 6", "age <= 38"):  # 38: the oldest in Leeds
        variant = f"{LEEDS} AND {bound}"
        assert dbm.execute("shop", variant).rows == dbm.execute("shop", LEEDS).rows
        assert same(neighbours, LEEDS, variant) is False


def test_the_same_query_written_otherwise_holds(shop):
    _, neighbours, _ = shop
    assert same(neighbours, LEEDS, "SELECT COUNT(*) FROM customers AS c WHERE c.city IN ('Leeds')")
    assert same(neighbours, "SELECT name FROM customers ORDER BY age",
                "SELECT c.name FROM customers c ORDER BY c.age ASC", ordered=True)


def test_the_users_file_is_only_read(shop):
    _, neighbours, path = shop
    before = path.read_bytes()
    same(neighbours, LEEDS, f"{LEEDS} AND id <= 6")
    assert path.read_bytes() == before


def test_no_neighbour_to_ask_when_a_query_fails_everywhere(shop):
    _, neighbours, _ = shop
    assert same(neighbours, LEEDS, "SELECT nickname FROM customers") is None


def test_close_deletes_the_copies_and_a_later_use_builds_again(shop):
    _, neighbours, _ = shop
    root = neighbours.manager("shop").engine.root
    neighbours.close()
    assert not root.exists()
    assert same(neighbours, LEEDS, f"{LEEDS} AND id <= 6") is False
