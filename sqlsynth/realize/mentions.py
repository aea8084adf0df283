"""The check that a question names everything its SQL uses: every table, column and value.

Written apart from the realizer (it reads only the SQL tree and `name_forms`), so it tests
the realizer's promise instead of repeating its logic. Tables and values must be in the
question; a column may be named in the evidence instead (join keys are explained there).

>>> from sqlsynth.db.schema import Column, Schema, Table
>>> schema = Schema("m", [Table("singer", [Column("name", "TEXT"), Column("age", "INT")])])
>>> missing_mentions("SELECT name FROM singer WHERE age > 30", schema,
...                  "What are the names of the singers older than 30?", "")
['column age']
"""

from __future__ import annotations

import re

from sqlglot import exp

from sqlsynth.db.schema import Schema
from sqlsynth.realize.names import name_forms
from sqlsynth.sql.parse import parse_single


def _names(forms: tuple[str, ...], text: str) -> bool:
    return any(re.search(rf"(?<![a-z0-9]){re.escape(f)}(?![a-z0-9])", text) for f in forms)


def _is_filler(literal: exp.Literal) -> bool:
    """``SELECT 1`` inside EXISTS and ``ORDER BY 2``: literals that are not values."""
    parent = literal.parent
    if isinstance(parent, exp.Ordered):
        return True
    return isinstance(parent, exp.Select) and literal.arg_key == "expressions" and isinstance(
        parent.parent, exp.Exists)


def missing_mentions(sql: str, schema: Schema, question: str, evidence: str,
                     dialect: str = "sqlite") -> list[str]:
    """What ``sql`` uses that neither ``question`` nor ``evidence`` names ([] when all are)."""
    tree = parse_single(sql, dialect)
    asked = question.lower()
    told = f"{question}\n{evidence}".lower()
    missing: list[str] = []
    known_columns = {c.name.lower(): c.name for t in schema.tables for c in t.columns}
    for table in tree.find_all(exp.Table):
        if table.name and not _names(name_forms(table.name), asked):
            missing.append(f"table {table.name}")
    for column in tree.find_all(exp.Column):
        if isinstance(column.this, exp.Star):
            continue
        if column.name.lower() not in known_columns:
            value = column.name  # SQLite reads an unknown "name" as the string 'name'
            if isinstance(column.parent, (exp.Like, exp.ILike)):
                value = value.strip("%")
            if column.this.quoted and value not in question:
                missing.append(f"value {value}")
            continue  # an output alias (ORDER BY n_orders) names no column
        if not _names(name_forms(known_columns[column.name.lower()]), told):
            missing.append(f"column {column.name}")
    for literal in tree.find_all(exp.Literal):
        if _is_filler(literal):
            continue
        text = str(literal.this)
        if literal.is_string and isinstance(literal.parent, (exp.Like, exp.ILike)):
            text = text.strip("%")
        if literal.is_string:
            named = text in question
        elif isinstance(literal.parent, exp.Limit) and text == "1":
            named = "first result" in asked  # LIMIT 1: "keeping only the first result"
        else:
            named = re.search(rf"(?<![\w.]){re.escape(text)}(?![\w])", question) is not None
        if text and not named:
            missing.append(f"value {text}")
    return list(dict.fromkeys(missing))
