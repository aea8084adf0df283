"""The schema as the sampler sees it: columns with a role, and the joins foreign keys allow.

A column's role decides what a query may do with it: numbers are summed, averaged and
compared, text is matched with LIKE, keys join and count but are never averaged. Roles come
from the declared type and, where a view or an untyped SQLite column declares none, from the
values the column stores. Join edges follow each foreign key both ways (composite keys join on
every column pair; a table referencing itself yields a self-join).
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from sqlsynth.db.schema import Schema

_NUMERIC = re.compile(r"INT|REAL|FLOA|DOUB|DEC|NUM|MONEY|SERIAL", re.IGNORECASE)
_TEXT = re.compile(r"CHAR|TEXT|CLOB|STRING|NAME|ENUM|CITEXT", re.IGNORECASE)
_DATE = re.compile(r"DATE|TIME|YEAR", re.IGNORECASE)
_BOOL = re.compile(r"BOOL", re.IGNORECASE)
_UNUSABLE = re.compile(r"BLOB|BINARY|BYTEA|JSON|XML|GEOM|POINT|ARRAY|\[\]|UUID|INTERVAL|BIT", re.IGNORECASE)


@dataclass(frozen=True)
class ColumnInfo:
    """One column and what a query may do with it."""

    table: str
    name: str
    role: str  # "number" | "text" | "date" | "bool" | "other"
    is_key: bool  # part of the table's primary key or of a foreign key
    nullable: bool

    @property
    def aggregatable(self) -> bool:
        """SUM / AVG make sense: a number that is not an identifier."""
        return self.role == "number" and not self.is_key

    @property
    def comparable(self) -> bool:
        """<, >, BETWEEN make sense: numbers and dates that are not identifiers."""
        return self.role in ("number", "date") and not self.is_key

    @property
    def categorical(self) -> bool:
        """A column to group by or to show: text, dates, booleans, not identifiers."""
        return self.role in ("text", "bool", "date") and not self.is_key


@dataclass(frozen=True)
class JoinEdge:
    """Join ``table`` to ``other`` on ``pairs`` of (column of table, column of other)."""

    table: str
    other: str
    pairs: tuple[tuple[str, str], ...]

    @property
    def is_self(self) -> bool:
        return self.table.lower() == self.other.lower()


@dataclass
class SchemaGraph:
    """Tables (in schema order), their usable columns, and join edges between them."""

    db_id: str
    tables: list[str]
    columns: dict[str, list[ColumnInfo]]
    edges: dict[str, list[JoinEdge]] = field(default_factory=dict)
    primary_keys: dict[str, list[str]] = field(default_factory=dict)

    def edges_of(self, table: str) -> list[JoinEdge]:
        return self.edges.get(table, [])

    def column(self, table: str, name: str) -> ColumnInfo | None:
        return next((c for c in self.columns.get(table, []) if c.name == name), None)


def role_of(declared: str, samples: list) -> str:
    """A column's role from its declared type, else from the Python types of its values."""
    if _UNUSABLE.search(declared or ""):
        return "other"
    if _BOOL.search(declared or ""):
        return "bool"
    if _DATE.search(declared or ""):
        return "date"
    if _NUMERIC.search(declared or ""):
        return "number"
    if _TEXT.search(declared or ""):
        return "text"
    present = [v for v in samples if v is not None]
    if not present:
        return "other"
    if all(isinstance(v, bool) for v in present):
        return "bool"
    if all(isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) for v in present):
        return "number"
    if all(isinstance(v, (_dt.date, _dt.datetime)) for v in present):
        return "date"
    if all(isinstance(v, str) for v in present):
        return "text"
    return "other"


def build_graph(schema: Schema) -> SchemaGraph:
    """The sampler's view of ``schema``; foreign keys naming unknown tables or columns are
    left out (views and partial catalogs can declare them)."""
    by_name = {t.name.lower(): t for t in schema.tables}
    columns: dict[str, list[ColumnInfo]] = {}
    for table in schema.tables:
        keys = {c.lower() for c in table.primary_key}
        keys |= {c.lower() for fk in table.foreign_keys for c in fk.columns}
        columns[table.name] = [
            ColumnInfo(table.name, c.name, role_of(c.type, c.samples), c.name.lower() in keys,
                       c.nullable)
            for c in table.columns
        ]
    edges: dict[str, list[JoinEdge]] = {t.name: [] for t in schema.tables}
    for table in schema.tables:
        for fk in table.foreign_keys:
            ref = by_name.get(fk.ref_table.lower())
            if ref is None or len(fk.columns) != len(fk.ref_columns) or not fk.columns:
                continue
            mine = [table.column(c) for c in fk.columns]
            theirs = [ref.column(c) for c in fk.ref_columns]
            if any(c is None for c in mine) or any(c is None for c in theirs):
                continue
            pairs = tuple((a.name, b.name) for a, b in zip(mine, theirs))  # type: ignore[union-attr]
            edges[table.name].append(JoinEdge(table.name, ref.name, pairs))
            if ref.name != table.name:
                edges[ref.name].append(JoinEdge(ref.name, table.name,
                                                tuple((b, a) for a, b in pairs)))
    primary_keys = {t.name: [c.name for c in map(t.column, t.primary_key) if c is not None]
                    for t in schema.tables}
    return SchemaGraph(schema.db_id, [t.name for t in schema.tables], columns, edges,
                       primary_keys)
