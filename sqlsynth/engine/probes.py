"""Seed queries: (column, proposed value, skeleton) turned into safe probe SQL.

Probe SQL is built as a sqlglot tree, never by pasting model text into a string, so quoting
of identifiers and literals follows the target dialect. The LIKE skeleton escapes the
wildcards of the proposed value: it asks "is this text a substring", not a pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from sqlglot import exp

Skeleton = Literal["exact", "like"]
SKELETONS: tuple[Skeleton, ...] = ("exact", "like")
LIKE_ESCAPE = "!"
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_TEXT_TYPE_WORDS = ("CHAR", "CLOB", "TEXT", "STRING", "ENUM", "NAME", "CITEXT", "SET")


def is_text_type(declared: str | None) -> bool:
    """SQLite's affinity rule, widened to MySQL/PostgreSQL names; untyped is not text."""
    upper = (declared or "").upper()
    return any(word in upper for word in _TEXT_TYPE_WORDS)


def holds_text(declared: str | None, dialect: str) -> bool:
    """Whether a probe may compare the column with a text literal.

    Text types everywhere; on SQLite also columns declared without a type or as BLOB: their
    BLOB affinity stores text as text (common in legacy and Spider/BIRD files), and SQLite's
    comparisons never fail on a type mismatch.
    """
    if is_text_type(declared):
        return True
    upper = (declared or "").strip().upper()
    return dialect == "sqlite" and (not upper or "BLOB" in upper)


def escape_like(value: str) -> str:
    return (
        value.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )


@dataclass(frozen=True)
class Probe:
    """One seed query for one keyword."""

    keyword: str
    table: str
    column: str
    value: str
    skeleton: Skeleton
    text_column: bool = True


def _table(name: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name, quoted=True))


def _column(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def probe_sql(probe: Probe, dialect: str) -> str | None:
    """The probe's statement in `dialect`, or None when it cannot be meaningful.

    An equality test of a non-numeric value against a column that cannot hold text (see
    `holds_text`) is skipped: a type error on PostgreSQL, a silent cast to 0 on MySQL, and
    pointless on a numeric SQLite column. LIKE on a non-text column casts it.
    """
    col = _column(probe.column)
    if probe.skeleton == "exact":
        if probe.text_column:
            literal: exp.Expression = exp.Literal.string(probe.value)
        elif _NUMBER.fullmatch(probe.value.strip()):
            literal = exp.Literal.number(probe.value.strip())
        else:
            return None
        condition: exp.Expression = exp.EQ(this=col, expression=literal)
    else:
        target = col.copy() if probe.text_column else exp.Cast(
            this=col.copy(), to=exp.DataType.build("TEXT")
        )
        pattern = "%" + escape_like(probe.value) + "%"
        condition = exp.Like(this=target, expression=exp.Literal.string(pattern))
        if pattern != "%" + probe.value + "%":
            condition = exp.Escape(this=condition, expression=exp.Literal.string(LIKE_ESCAPE))
    query = exp.select(col.copy()).distinct().from_(_table(probe.table)).where(condition)
    return query.sql(dialect=dialect)


def column_sample_sql(table: str, column: str, dialect: str, limit: int) -> str:
    """Distinct non-null values of one column, shown to the model when it proposes variants."""
    col = _column(column)
    query = (
        exp.select(col.copy())
        .distinct()
        .from_(_table(table))
        .where(exp.Not(this=exp.Is(this=col.copy(), expression=exp.Null())))
        .limit(limit)
    )
    return query.sql(dialect=dialect)


def classify(values: list) -> str:
    """The paper's cases: exactly one stored value is knowledge; none or several are not."""
    if not values:
        return "none"
    return "unique" if len(values) == 1 else "multiple"
