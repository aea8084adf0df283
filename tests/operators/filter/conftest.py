"""Fixtures of the filter operator tests: two small real SQLite databases."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from sqlsynth.operators.base import StepContext

SHOP_SQL = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),
                     amount REAL);
INSERT INTO customers VALUES (1, 'Ada', 'Leeds'), (2, 'Bo', 'York'), (3, 'Cy', 'Leeds');
INSERT INTO orders VALUES (1, 1, 12.5), (2, 1, 40.0), (3, 2, 7.25);
"""

ZOO_SQL = """
CREATE TABLE animals (id INTEGER PRIMARY KEY, species TEXT, legs INTEGER);
INSERT INTO animals VALUES (1, 'heron', 2), (2, 'lynx', 4);
"""


@pytest.fixture
def db_root(tmp_path: Path) -> Path:
    root = tmp_path / "dbs"
    for name, script in (("shop", SHOP_SQL), ("zoo", ZOO_SQL)):
        (root / name).mkdir(parents=True)
        with sqlite3.connect(root / name / f"{name}.sqlite") as conn:
            conn.executescript(script)
    return root


@pytest.fixture
def dbm(db_root: Path) -> Any:
    from sqlsynth.db import DatabaseManager

    manager = DatabaseManager(db_type="sqlite", config={"root_path": str(db_root)})
    yield manager
    manager.close()


@pytest.fixture
def ctx() -> StepContext:
    return StepContext(step_index=1, step_name="test_step", seed=7)
