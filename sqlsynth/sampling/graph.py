"""The schema as the sampler sees it: tables, typed columns with roles, and join edges.

Columns get a role from their type and keys (``key``: primary or foreign key columns, and
columns named as identifiers, never averaged or summed; ``number``: measures to compare, sum and average; ``text``: names and codes
to match with ``=``, ``LIKE`` and ``IN``; ``date``: ISO dates and times, compared as ordered
text). Join edges follow declared foreign keys in both directions, composite keys and
self-references included; a view is a table without keys, so it joins nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlsynth.db.schema import Schema, Table

_NUMBER = re.compile(r"int|real|num|dec|float|double|money|serial", re.IGNORECASE)
_DATE = re.compile(r"date|time", re.IGNORECASE)
_DATE_NAME = re.compile(r"(date|_on|_at|time|day)$", re.IGNORECASE)
_BINARY = re.compile(r"blob|bytea|binary|json|xml|geometry|array", re.IGNORECASE)
#: names of identifiers (``id``, ``order_id``, ``order id``, ``OrderID``): keys even where no
#: constraint says so (views, tables created without keys), so never averaged or summed
_ID_NAME = re.compile(r"^id$|[_\s]id$|^id[_\s]", re.IGNORECASE)
_ID_CAMEL = re.compile(r"[a-z]I[Dd]$")


@dataclass(frozen=True)
class ColumnRef:
    """One column of one table, with the role that decides how queries use it."""

    table: str
    column: str
    type: str
    role: str  # key | number | text | date
    comment: str | None = None
    nullable: bool = True


@dataclass(frozen=True)
class Edge:
    """A foreign key seen from ``source``: ``source.columns`` reference ``target.columns``.

    ``many_to_one`` is true when walking from the referencing table to the referenced one
    (each source row has at most one target row), false for the reverse walk.
    """

    source: str
    target: str
    source_columns: tuple[str, ...]
    target_columns: tuple[str, ...]
    many_to_one: bool
    via: str  # the referencing column(s), for naming the relation

    @property
    def self_join(self) -> bool:
        return self.source == self.target


@dataclass
class SchemaGraph:
    """Tables with their column roles and join edges, built once per database."""

    tables: dict[str, list[ColumnRef]] = field(default_factory=dict)
    primary_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    edges: dict[str, list[Edge]] = field(default_factory=dict)

    @classmethod
    def from_schema(cls, schema: Schema) -> SchemaGraph:
        graph = cls()
        for table in schema.tables:
            graph.tables[table.name] = [_column_ref(table, c) for c in table.columns
                                        if not _BINARY.search(c.type or "")]
            graph.primary_keys[table.name] = tuple(table.primary_key)
            graph.edges.setdefault(table.name, [])
        for table in schema.tables:
            for fk in table.foreign_keys:
                target = schema.table(fk.ref_table)
                if target is None or len(fk.columns) != len(fk.ref_columns) or not fk.columns:
                    continue
                via = "_".join(fk.columns)
                graph.edges[table.name].append(Edge(table.name, target.name, tuple(fk.columns),
                                                    tuple(fk.ref_columns), True, via))
                graph.edges.setdefault(target.name, []).append(
                    Edge(target.name, table.name, tuple(fk.ref_columns), tuple(fk.columns),
                         False, via))
        return graph

    def columns(self, table: str, *roles: str) -> list[ColumnRef]:
        return [c for c in self.tables.get(table, []) if not roles or c.role in roles]

    def label_column(self, table: str) -> ColumnRef | None:
        """The column that names a row (``*_name``, ``title``, ...), for listing entities."""
        texts = self.columns(table, "text")
        for pattern in ("name", "title", "label", "description", "code"):
            for col in texts:
                if pattern in col.column.lower():
                    return col
        return texts[0] if texts else None


def _column_ref(table: Table, column) -> ColumnRef:
    keys = set(table.primary_key) | {c for fk in table.foreign_keys for c in fk.columns}
    kind = column.type or ""
    if column.name in keys or _ID_NAME.search(column.name) or _ID_CAMEL.search(column.name):
        role = "key"
    elif _DATE.search(kind) or (_DATE_NAME.search(column.name) and not _NUMBER.search(kind)):
        role = "date"
    elif _NUMBER.search(kind):
        role = "number"
    else:
        role = "text"
    return ColumnRef(table.name, column.name, kind, role, column.comment, column.nullable)
