"""Random SELECT trees over one schema graph, shaped by a wanted Spider hardness level.

The builder draws a recipe (how many tables, which filters, grouping, nesting, a set
operation) from priors that make the wanted level likely, then fills it with columns of the
right role and values the database stores. It does not compute the level itself: the sampler
renders each tree, measures it with ``sqlsynth.sql.hardness`` and keeps the ones that match.
Filter values come from one "anchor" row of the filtered table, so a conjunction of filters on
that table keeps at least that row.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sqlglot import exp

from sqlsynth.sampling.graph import ColumnInfo, JoinEdge, SchemaGraph
from sqlsynth.sampling.render import column, literal, table
from sqlsynth.sampling.values import StoredValues

SIMPLE_CONDITIONS = ("eq", "cmp", "between", "in_list", "is_null")
NESTED_CONDITIONS = ("sub_in", "sub_not_in", "exists", "scalar", "correlated")
SET_OPERATIONS = (exp.Union, exp.Intersect, exp.Except)


class Unbuildable(Exception):
    """This recipe does not fit this schema (no such column or join); draw another."""


@dataclass
class Recipe:
    tables: int = 1
    columns: int = 1
    aggregates: int = 0
    case: bool = False
    distinct: bool = False
    conditions: list[str] = field(default_factory=list)
    use_or: bool = False
    group: bool = False
    having: bool = False
    order: bool = False
    limit: bool = False
    set_operation: bool = False


def draw_recipe(level: str, rng: random.Random) -> Recipe:
    """Priors per level, following Spider's counts (see ``sqlsynth.sql.hardness``)."""
    r = Recipe()
    if level == "easy":
        shape = rng.choice(("column", "aggregate", "distinct", "order", "case", "column"))
        r.columns, r.aggregates = (0, 1) if shape in ("aggregate", "case") else (1, 0)
        r.case = shape == "case"
        r.distinct = shape == "distinct"
        r.order = shape == "order"
        if shape in ("column", "aggregate", "case") and rng.random() < 0.8:
            r.conditions = [rng.choice(SIMPLE_CONDITIONS)]
    elif level == "medium":
        shape = rng.choice(("join", "group", "like", "two_filters", "top", "case"))
        r.tables = 2 if shape == "join" or rng.random() < 0.25 else 1
        r.columns = rng.choice((1, 2))
        if shape == "join":
            r.conditions = [rng.choice(SIMPLE_CONDITIONS)] if rng.random() < 0.7 else []
        elif shape == "group":
            r.group, r.aggregates, r.columns = True, 1, 1
        elif shape == "like":
            r.conditions = ["like"]
        elif shape == "two_filters":
            r.conditions = rng.sample(SIMPLE_CONDITIONS, 2)
            r.use_or = rng.random() < 0.2
        elif shape == "top":
            r.order, r.limit, r.columns = True, True, 1
        else:
            r.case, r.columns = True, 1
    elif level == "hard":
        shape = rng.choice(("nested", "nested", "set", "busy", "group"))
        if shape == "nested":
            r.conditions = [rng.choice(NESTED_CONDITIONS)]
        elif shape == "set":
            r.set_operation = True
            r.conditions = [rng.choice(SIMPLE_CONDITIONS)]
        elif shape == "busy":
            r.tables = 2
            r.columns = rng.choice((1, 2))
            r.conditions = [rng.choice(SIMPLE_CONDITIONS + ("like",))]
            r.order = True
        else:
            r.group, r.having, r.aggregates, r.order = True, True, 1, True
            r.tables = rng.choice((1, 2))
    else:
        shape = rng.choice(("nested_join", "nested_group", "set_join", "many", "two_nested"))
        r.tables = 2 if shape in ("nested_join", "set_join", "many") else 1
        r.columns = rng.choice((1, 2))
        if shape == "nested_join":
            r.conditions = [rng.choice(NESTED_CONDITIONS), rng.choice(SIMPLE_CONDITIONS)]
        elif shape == "nested_group":
            r.group, r.aggregates = True, 1
            r.conditions = [rng.choice(NESTED_CONDITIONS)]
            r.order, r.limit = rng.random() < 0.5, rng.random() < 0.5
        elif shape == "set_join":
            r.set_operation = True
            r.conditions = [rng.choice(SIMPLE_CONDITIONS)]
        elif shape == "many":
            r.tables = rng.choice((2, 3))
            r.conditions = rng.sample(SIMPLE_CONDITIONS + ("like",), 2)
            r.group, r.aggregates, r.order, r.limit = True, 1, True, True
        else:
            r.conditions = rng.sample(NESTED_CONDITIONS, 2)
    return r


@dataclass
class Source:
    """The FROM clause: tables with aliases (T1, T2, ... when more than one or nested)."""

    items: list[tuple[str, str | None]]
    edges: list[tuple[JoinEdge, int, int]]


class QueryBuilder:
    """Builds one tree per call to ``build``; all randomness from the ``rng`` given."""

    def __init__(self, graph: SchemaGraph, values: StoredValues, dialect: str,
                 rng: random.Random) -> None:
        self.graph = graph
        self.values = values
        self.dialect = dialect
        self.rng = rng
        self.anchors: dict[str, dict[str, object]] = {}
        self.aliases = 0

    # ------------------------------------------------------------------ pieces

    def _alias(self) -> str:
        self.aliases += 1
        return f"T{self.aliases}"

    def _col(self, source: Source, index: int, name: str) -> exp.Column:
        return column(name, source.items[index][1], self.dialect)

    def _anchor(self, table_name: str) -> dict[str, object]:
        if table_name not in self.anchors:
            rows = self.values.rows(self.graph.db_id, table_name)
            self.anchors[table_name] = self.rng.choice(rows) if rows else {}
        return self.anchors[table_name]

    def _pick(self, options: list, what: str):
        if not options:
            raise Unbuildable(what)
        return self.rng.choice(options)

    def source(self, tables: int, aliased: bool) -> Source:
        usable = [t for t in self.graph.tables
                  if self.values.rows(self.graph.db_id, t) and self.graph.columns[t]]
        if tables > 1:
            usable = [t for t in usable if self.graph.edges_of(t)]
        start = self._pick(usable, "no table with rows")
        items: list[tuple[str, str | None]] = [(start, None)]
        edges: list[tuple[JoinEdge, int, int]] = []
        while len(items) < tables:
            used = {t.lower() for t, _ in items}
            options = [(edge, i) for i, (t, _) in enumerate(items) for edge in self.graph.edges_of(t)
                       if edge.other.lower() not in used or
                       (edge.is_self and sum(n.lower() == t.lower() for n, _ in items) == 1)]
            if not options:
                raise Unbuildable("no join path of that length")
            edge, i = self.rng.choice(options)
            items.append((edge.other, None))
            edges.append((edge, i, len(items) - 1))
        if aliased or tables > 1:
            items = [(t, self._alias()) for t, _ in items]
        return Source(items, edges)

    def from_(self, source: Source, select: exp.Select) -> exp.Select:
        first, alias = source.items[0]
        select = select.from_(table(first, alias, self.dialect))
        for edge, i, j in source.edges:
            on = exp.and_(*(exp.EQ(this=self._col(source, i, a), expression=self._col(source, j, b))
                            for a, b in edge.pairs))
            name, alias = source.items[j]
            select = select.join(table(name, alias, self.dialect), on=on)
        return select

    def _columns(self, source: Source, test) -> list[tuple[int, ColumnInfo]]:
        return [(i, c) for i, (t, _) in enumerate(source.items) for c in self.graph.columns[t]
                if test(c)]

    def shown_column(self, source: Source) -> tuple[int, ColumnInfo]:
        named = self._columns(source, lambda c: c.role == "text" and not c.is_key)
        return self._pick(named or self._columns(source, lambda c: c.role != "other"),
                          "no column to show")

    def aggregate(self, source: Source) -> exp.Expression:
        kind = self.rng.choice(("count", "count", "sum", "avg", "min", "max", "count_distinct"))
        if kind == "count":
            return exp.Count(this=exp.Star())
        if kind == "count_distinct":
            i, c = self._pick(self._columns(source, lambda c: c.categorical), "no category")
            return exp.Count(this=exp.Distinct(expressions=[self._col(source, i, c.name)]))
        test = (lambda c: c.aggregatable) if kind in ("sum", "avg") else (lambda c: c.comparable)
        i, c = self._pick(self._columns(source, test), f"nothing to {kind}")
        node = {"sum": exp.Sum, "avg": exp.Avg, "min": exp.Min, "max": exp.Max}[kind]
        return node(this=self._col(source, i, c.name))

    def case_item(self, source: Source, counted: bool) -> exp.Expression:
        i, c = self._pick(self._columns(source, lambda c: c.comparable), "nothing to compare")
        value = self._anchor(source.items[i][0]).get(c.name)
        lit = literal(value) if value is not None else None
        if lit is None:
            raise Unbuildable("no stored value")
        cond = exp.GTE(this=self._col(source, i, c.name), expression=lit)
        if counted:
            case = exp.Case(ifs=[exp.If(this=cond, true=exp.Literal.number(1))],
                            default=exp.Literal.number(0))
            return exp.Sum(this=case)
        return exp.Case(ifs=[exp.If(this=cond, true=exp.Literal.string("high"))],
                        default=exp.Literal.string("low"))

    def condition(self, kind: str, source: Source, index: int | None = None) -> exp.Expression:
        if kind in NESTED_CONDITIONS:
            return self.nested_condition(kind, source)
        tests = {
            "eq": lambda c: c.role in ("text", "bool", "number", "date") and not c.is_key,
            "cmp": lambda c: c.comparable, "between": lambda c: c.comparable,
            "in_list": lambda c: c.role in ("text", "number") and not c.is_key,
            "like": lambda c: c.role == "text" and not c.is_key,
            "is_null": lambda c: c.nullable and c.role != "other",
        }
        options = self._columns(source, tests[kind])
        if index is not None:
            options = [o for o in options if o[0] == index]
        i, c = self._pick(options, f"no column for {kind}")
        col = self._col(source, i, c.name)
        table_name = source.items[i][0]
        anchor = self._anchor(table_name).get(c.name)
        if kind == "is_null":
            test = exp.Is(this=col, expression=exp.Null())
            return test if anchor is None else exp.Not(this=test)
        lit = literal(anchor) if anchor is not None else None
        if lit is None:
            raise Unbuildable("no stored value")
        if kind == "eq":
            return exp.EQ(this=col, expression=lit)
        if kind == "like":
            assert isinstance(anchor, str)
            words = [w for w in anchor.replace("%", " ").replace("_", " ").split() if len(w) >= 3]
            if not words:
                raise Unbuildable("no word to match")
            word = self.rng.choice(words)
            pattern = self.rng.choice((f"%{word}%", f"{word}%")) if anchor.startswith(word) \
                else f"%{word}%"
            return exp.Like(this=col, expression=exp.Literal.string(pattern))
        stored = [v for v in self.values.values(self.graph.db_id, table_name, c.name)
                  if type(v) is type(anchor) and literal(v) is not None]
        if kind == "in_list":
            others = [v for v in stored if v != anchor]
            chosen = [anchor, *self.rng.sample(others, min(len(others), self.rng.choice((1, 2))))]
            if len(chosen) < 2:
                raise Unbuildable("one value only")
            return exp.In(this=col, expressions=[literal(v) for v in chosen])
        below = [v for v in stored if _lt(v, anchor)]
        above = [v for v in stored if _lt(anchor, v)]
        if kind == "between":
            lo = self.rng.choice(below) if below else anchor
            hi = self.rng.choice(above) if above else anchor
            return exp.Between(this=col, low=literal(lo), high=literal(hi))
        op = self.rng.choice((">", "<", ">=", "<="))
        if op == ">" and below:
            return exp.GT(this=col, expression=literal(self.rng.choice(below)))
        if op == "<" and above:
            return exp.LT(this=col, expression=literal(self.rng.choice(above)))
        node = exp.GTE if op in (">", ">=") else exp.LTE
        return node(this=col, expression=lit)

    def nested_condition(self, kind: str, source: Source) -> exp.Expression:
        if kind in ("scalar", "correlated"):
            i, c = self._pick(self._columns(source, lambda c: c.aggregatable), "no number")
            table_name = source.items[i][0]
            inner_alias = self._alias() if kind == "correlated" else None
            inner = exp.select(exp.Avg(this=column(c.name, inner_alias, self.dialect))).from_(
                table(table_name, inner_alias, self.dialect))
            if kind == "correlated":
                key = set(self.graph.primary_keys.get(table_name, []))
                groups = [g for g in self.graph.columns[table_name]
                          if g.categorical or (g.is_key and g.name not in key)]
                g = self._pick(groups, "nothing to correlate on")
                inner = inner.where(exp.EQ(this=column(g.name, inner_alias, self.dialect),
                                           expression=self._col(source, i, g.name)))
            node = self.rng.choice((exp.GT, exp.LT))
            return node(this=self._col(source, i, c.name), expression=exp.Subquery(this=inner))
        links = [(i, e) for i, (t, _) in enumerate(source.items) for e in self.graph.edges_of(t)
                 if len(e.pairs) == 1]
        if kind == "exists":
            i, edge = self._pick(links, "no foreign key to test")
            mine, theirs = edge.pairs[0]
            inner_alias = self._alias()
            inner = exp.select(exp.Literal.number(1)).from_(
                table(edge.other, inner_alias, self.dialect)).where(
                exp.EQ(this=column(theirs, inner_alias, self.dialect),
                       expression=self._col(source, i, mine)))
            inner = self._inner_filter(inner, edge.other, inner_alias)
            test = exp.Exists(this=inner)
            return exp.Not(this=test) if self.rng.random() < 0.3 else test
        if links:
            i, edge = self.rng.choice(links)
            mine, theirs = edge.pairs[0]
            other = edge.other
        else:  # no foreign key: the same table's own column, filtered differently
            i, c = self._pick(self._columns(source, lambda c: c.role in ("text", "number")),
                              "nothing to nest")
            mine = theirs = c.name
            other = source.items[i][0]
        inner = exp.select(column(theirs, None, self.dialect)).from_(
            table(other, None, self.dialect))
        inner = self._inner_filter(inner, other, None)
        theirs_info = self.graph.column(other, theirs)
        if kind == "sub_not_in" and (theirs_info is None or theirs_info.nullable):
            # NOT IN over a NULL is never true: leave NULLs out of the subquery
            inner = inner.where(exp.Not(this=exp.Is(this=column(theirs, None, self.dialect),
                                                    expression=exp.Null())))
        test = exp.In(this=self._col(source, i, mine), query=exp.Subquery(this=inner))
        return exp.Not(this=test) if kind == "sub_not_in" else test

    def _inner_filter(self, inner: exp.Select, table_name: str, alias: str | None) -> exp.Select:
        sub = Source([(table_name, alias)], [])
        saved, self.anchors = self.anchors, {}
        try:
            return inner.where(self.condition(self.rng.choice(("eq", "cmp", "in_list")), sub))
        except Unbuildable:
            return inner
        finally:
            self.anchors = saved

    # ------------------------------------------------------------------ whole queries

    def build(self, recipe: Recipe) -> exp.Expression:
        if recipe.set_operation:
            return self._set_operation(recipe)
        nested = any(k in ("exists", "correlated") for k in recipe.conditions)
        source = self.source(recipe.tables, aliased=nested)
        return self._select(recipe, source)

    def _select(self, recipe: Recipe, source: Source) -> exp.Select:
        items: list[exp.Expression] = []
        group_keys: list[exp.Expression] = []
        if recipe.group:
            i, c = self._pick(self._columns(source, lambda c: c.categorical), "no category")
            key = self._col(source, i, c.name)
            group_keys.append(key)
            items.append(key.copy())
        else:
            for _ in range(recipe.columns):
                i, c = self.shown_column(source)
                node = self._col(source, i, c.name)
                if all(node != e for e in items):
                    items.append(node)
        aggregates = [self.aggregate(source) for _ in range(recipe.aggregates)]
        if recipe.case:
            if recipe.columns == 0 or recipe.group:
                aggregates.append(self.case_item(source, counted=True))
            else:
                items.append(self.case_item(source, counted=False))
        if aggregates and not recipe.group:
            items = []  # aggregates without GROUP BY stand alone
        items += aggregates
        if not items:
            raise Unbuildable("nothing selected")
        select = self.from_(source, exp.select(*items))
        if recipe.distinct and not aggregates:
            select = select.distinct()
        anchor_index = self.rng.randrange(len(source.items))
        conditions = [self.condition(k, source, None if k in NESTED_CONDITIONS else anchor_index)
                      for k in recipe.conditions]
        if conditions:
            joined = exp.or_(*conditions) if recipe.use_or else exp.and_(*conditions)
            select = select.where(joined)
        if group_keys:
            select = select.group_by(*group_keys)
            if recipe.having:
                threshold = self.rng.choice((1, 2, 3))
                select = select.having(exp.GT(this=exp.Count(this=exp.Star()),
                                              expression=exp.Literal.number(threshold)))
        if recipe.order:
            select = self._order(select, source, recipe, items, aggregates)
        if recipe.limit:
            if not select.args.get("order"):
                select = self._order(select, source, recipe, items, aggregates)
            select = select.limit(self.rng.choice((1, 3, 5, 10)))
        return select

    def _order(self, select: exp.Select, source: Source, recipe: Recipe,
               items: list[exp.Expression], aggregates: list[exp.Expression]) -> exp.Select:
        if recipe.group and aggregates:
            key = aggregates[0].copy()
        elif aggregates:
            return select  # one row: nothing to order
        elif recipe.distinct:
            key = items[0].copy()
        else:
            options = self._columns(source, lambda c: c.comparable or c.categorical)
            i, c = self._pick(options, "nothing to order by")
            key = self._col(source, i, c.name)
        desc = self.rng.random() < 0.6
        # the engine's own NULL placement, so sqlglot writes no NULLS FIRST / LAST clause
        nulls_first = desc if self.dialect == "postgres" else not desc
        return select.order_by(exp.Ordered(this=key, desc=desc, nulls_first=nulls_first))

    def _set_operation(self, recipe: Recipe) -> exp.Expression:
        source = self.source(recipe.tables, aliased=False)
        i, c = self.shown_column(source)
        shown = self._col(source, i, c.name)
        first = self.from_(source, exp.select(shown))
        index = i
        left = first.where(self.condition(recipe.conditions[0], source, index)) \
            if recipe.conditions else first
        self.anchors = {}  # the other side filters on another stored row
        kind = self.rng.choice(("eq", "cmp", "in_list", "between"))
        right = self.from_(source, exp.select(shown.copy())).where(
            self.condition(kind, source, index))
        node = self.rng.choice(SET_OPERATIONS)
        return node(this=left, expression=right, distinct=True)


def _lt(a: object, b: object) -> bool:
    try:
        return bool(a < b)  # type: ignore[operator]
    except TypeError:
        return False

