"""Fixtures of the evaluation operator tests: one small real SQLite database."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from sqlsynth.operators.base import StepContext

SCHOOL_SQL = """
CREATE TABLE pupils (id INTEGER PRIMARY KEY, name TEXT, grade INTEGER);
INSERT INTO pupils VALUES (1, 'Ann', 3), (2, 'Ben', 5), (3, 'Cat', 4);
"""


@pytest.fixture
def dbm(tmp_path: Path) -> Any:
    from sqlsynth.db import DatabaseManager

    root = tmp_path / "dbs"
    root.mkdir()
    with sqlite3.connect(root / "school.sqlite") as conn:
        conn.executescript(SCHOOL_SQL)
    manager = DatabaseManager(db_type="sqlite", config={"root_path": str(root)})
    yield manager
    manager.close()


@pytest.fixture
def ctx() -> StepContext:
    return StepContext(step_index=1, step_name="test_step", seed=7)
