"""Which table each column of a query belongs to, and what the question calls that table.

A query's FROM clause opens a scope: its sources (table and alias), named in the question by
the table's humanized name, or "first employee" / "second employee" when one table appears
twice (a self-join). Subqueries open a child scope; a column the child cannot resolve belongs
to an enclosing query (a correlated reference, "this customer").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from sqlsynth.db.schema import Column, Schema, Table
from sqlsynth.realize.errors import NotRealizable
from sqlsynth.realize.names import humanize, plural, singular

_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")


@dataclass
class Source:
    """One table of a FROM clause."""

    alias: str  # lower-cased alias, or the table name when it has none
    table: Table
    noun: str  # singular: "customer", "first employee"

    @property
    def nouns(self) -> str:
        return plural(self.noun)


@dataclass
class Scope:
    sources: list[Source]
    parent: Scope | None = None
    #: output aliases of the SELECT list (ORDER BY n_orders), lower-cased -> expression
    aliases: dict[str, exp.Expression] = field(default_factory=dict)

    @property
    def single(self) -> bool:
        return len(self.sources) == 1

    def find(self, column: exp.Column) -> tuple[Source, Column, int] | None:
        """The source and schema column of ``column``, and how many scopes up it lives."""
        depth, scope = 0, self
        qualifier = column.table.lower() if column.table else ""
        while scope is not None:
            hit = scope._find_here(column.name, qualifier)
            if hit is not None:
                return hit[0], hit[1], depth
            scope, depth = scope.parent, depth + 1
        return None

    def _find_here(self, name: str, qualifier: str) -> tuple[Source, Column] | None:
        for source in self.sources:
            if qualifier and qualifier not in (source.alias, source.table.name.lower()):
                continue
            col = source.table.column(name)
            if col is not None:
                return source, col
        return None


def table_noun(table: Table) -> str:
    """The singular noun of a table: "order items" -> "order item"."""
    return singular(humanize(table.name))


def open_scope(select: exp.Select, schema: Schema, parent: Scope | None) -> Scope:
    """The scope of one SELECT's FROM and JOIN clauses (derived tables are not realizable)."""
    from_ = select.args.get("from_") or select.args.get("from")
    if from_ is None:
        raise NotRealizable("a query without FROM")
    items = [from_.this] + [j.this for j in select.args.get("joins") or []]
    extra = from_.expressions if hasattr(from_, "expressions") else []
    items += list(extra or [])
    tables: list[tuple[str, Table]] = []
    for item in items:
        if not isinstance(item, exp.Table) or not item.name:
            raise NotRealizable(f"FROM item {type(item).__name__} (derived table or function)")
        table = schema.table(item.name)
        if table is None:
            raise NotRealizable(f"unknown table {item.name!r}")
        tables.append(((item.alias or item.name).lower(), table))
    counts: dict[str, int] = {}
    for _, table in tables:
        counts[table.name.lower()] = counts.get(table.name.lower(), 0) + 1
    seen: dict[str, int] = {}
    sources = []
    for alias, table in tables:
        key = table.name.lower()
        noun = table_noun(table)
        if counts[key] > 1:
            index = seen.get(key, 0)
            seen[key] = index + 1
            if index >= len(_ORDINALS):
                raise NotRealizable(f"table {table.name!r} used more than {len(_ORDINALS)} times")
            noun = f"{_ORDINALS[index]} {noun}"
        sources.append(Source(alias, table, noun))
    if len({s.alias for s in sources}) != len(sources):
        raise NotRealizable("two FROM items share one alias")
    scope = Scope(sources, parent)
    for projection in select.expressions:
        if isinstance(projection, exp.Alias):
            scope.aliases[projection.alias.lower()] = projection.this
    return scope
