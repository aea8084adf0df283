"""Table definitions and the SQLite writer shared by the example database builders.

Column comments are written as ``-- comment`` after each column definition, because the
database layer reads them back from ``sqlite_master.sql`` to describe columns to the LLM.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlsynth.storage.atomic import atomic_path

Column = tuple[str, str, str]
"""(name, declaration such as ``TEXT NOT NULL REFERENCES t(c)``, comment)."""


@dataclass(frozen=True)
class TableDef:
    """One table: its columns in order, plus table-level constraints such as a composite key."""

    name: str
    columns: tuple[Column, ...]
    constraints: tuple[str, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c[0] for c in self.columns)

    def create_sql(self) -> str:
        items = [f"{name} {decl}" for name, decl, _ in self.columns] + list(self.constraints)
        lines = []
        for i, item in enumerate(items):
            sep = "," if i < len(items) - 1 else ""
            comment = f" -- {self.columns[i][2]}" if i < len(self.columns) else ""
            lines.append(f"    {item}{sep}{comment}")
        return f"CREATE TABLE {self.name} (\n" + "\n".join(lines) + "\n)"


def write_database(
    path: Path, tables: Sequence[TableDef], rows: Mapping[str, Sequence[tuple]]
) -> None:
    """Create ``path`` from scratch with foreign keys enforced while loading.

    Tables are created and filled in the given order, so parents must come first. The file is
    written next to its final name and renamed, so a failed build never leaves half a database.
    """
    with atomic_path(path) as tmp:
        con = sqlite3.connect(tmp)
        try:
            con.execute("PRAGMA foreign_keys = ON")
            with con:
                for table in tables:
                    con.execute(table.create_sql())
                    marks = ", ".join("?" * len(table.columns))
                    cols = ", ".join(table.column_names)
                    con.executemany(
                        f"INSERT INTO {table.name} ({cols}) VALUES ({marks})", rows[table.name]
                    )
            problems = con.execute("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise ValueError(f"{path.name}: foreign key violations, first: {problems[0]}")
            con.execute("VACUUM")
        finally:
            con.close()


def random_date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    """A uniformly drawn day in [start, end]."""
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


def weighted(rng: random.Random, options: Sequence[tuple[object, float]]) -> object:
    """Pick one value from (value, weight) pairs."""
    values = [v for v, _ in options]
    weights = [w for _, w in options]
    return rng.choices(values, weights=weights, k=1)[0]


FIRST_NAMES_F = (
    "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica",
    "Sarah", "Karen", "Lisa", "Nancy", "Betty", "Sandra", "Ashley", "Emily", "Michelle",
    "Amanda", "Melissa", "Laura", "Maria", "Sofia", "Olivia", "Emma", "Ava", "Grace",
    "Chloe", "Hannah", "Aisha", "Mei", "Priya", "Fatima", "Ingrid", "Rosa", "Lucia",
)
FIRST_NAMES_M = (
    "James", "Robert", "John", "Michael", "David", "William", "Richard", "Joseph", "Thomas",
    "Charles", "Daniel", "Matthew", "Anthony", "Mark", "Steven", "Paul", "Andrew", "Joshua",
    "Kevin", "Brian", "George", "Ethan", "Noah", "Liam", "Lucas", "Mateo", "Omar", "Wei",
    "Raj", "Diego", "Hiroshi", "Ivan", "Kwame", "Samuel", "Henry",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas",
    "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris",
    "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King",
    "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson",
    "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Olson",
    "Larson", "Johansson", "Patel", "Kim", "Chen", "O'Brien", "Murphy", "Schmidt", "Novak",
)
