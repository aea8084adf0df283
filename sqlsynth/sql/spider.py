"""Spider's view of a query, built from a sqlglot tree.

Spider's evaluation (hardness and exact-set-match) is defined on its own parsed form: a query
is a SELECT list of ``(agg, val_unit)``, FROM table units plus join conditions, flat condition
lists ``[cond, 'and'|'or', cond, ...]`` for WHERE/HAVING, GROUP BY column units, one ORDER BY
direction with value units, a LIMIT, and at most one INTERSECT/UNION/EXCEPT continuation.
We rebuild that form from sqlglot so the rules can be applied as Spider states them, while
accepting any SQL sqlglot parses (not only Spider's grammar).

Units, mirroring Spider:
    col_unit  = (agg, col_id, distinct)       agg in none/max/min/count/sum/avg
    val_unit  = (unit_op, col_unit1, col_unit2 | None)   unit_op in none/-/+/*//
    cond_unit = (not_op, op, val_unit, val1, val2)       val = SpiderQuery | value tuple
Column ids are ``__table.column__`` (lower case), ``__all__`` for ``*``.

Beyond Spider's grammar (documented choices, not in the original):
* conditions in parentheses are flattened (Spider cannot parse them);
* ORDER BY / HAVING may name a SELECT alias or ordinal: the aliased expression is used;
* expressions that are not columns (functions, CASE, ...) become one col_unit whose id is the
  expression text with columns resolved and literals removed;
* subqueries outside conditions and the FROM clause (e.g. scalar subqueries in SELECT) are
  kept in ``other_nested``; CTE bodies are kept in ``ctes`` and, like FROM subqueries, are
  treated as table units.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlglot import exp

from sqlsynth.sql.parse import SQLParseError, parse_single, unparen
from sqlsynth.sql.template import is_quoted_value

AGG_NAMES: dict[type, str] = {
    exp.Max: "max", exp.Min: "min", exp.Count: "count", exp.Sum: "sum", exp.Avg: "avg",
}
UNIT_OPS: dict[type, str] = {exp.Sub: "-", exp.Add: "+", exp.Mul: "*", exp.Div: "/"}
COMPARISONS: dict[type, str] = {
    exp.EQ: "=", exp.NEQ: "!=", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<=",
    exp.Like: "like", exp.ILike: "like", exp.Is: "is",
}
SET_OPS: dict[type, str] = {exp.Intersect: "intersect", exp.Union: "union", exp.Except: "except"}
ALL_COLUMNS = "__all__"

ColUnit = tuple[str, str, bool]
ValUnit = tuple[str, ColUnit, "ColUnit | None"]
Condition = tuple[Any, ...]


@dataclass(frozen=True)
class SpiderQuery:
    """One SELECT in Spider's form; ``intersect``/``union``/``except_`` hold the continuation."""

    select: tuple[tuple[str, ValUnit], ...] = ()
    distinct: bool = False
    table_units: tuple[tuple[str, Any], ...] = ()
    from_conds: Condition = ()
    where: Condition = ()
    group_by: tuple[ColUnit, ...] = ()
    having: Condition = ()
    order_dir: str = "asc"
    order_by: tuple[ValUnit, ...] = ()
    limit: str | None = None
    intersect: SpiderQuery | None = None
    union: SpiderQuery | None = None
    except_: SpiderQuery | None = None
    other_nested: tuple[SpiderQuery, ...] = ()
    ctes: tuple[tuple[str, SpiderQuery], ...] = ()

    @property
    def set_ops(self) -> dict[str, SpiderQuery | None]:
        return {"intersect": self.intersect, "union": self.union, "except": self.except_}


EMPTY_QUERY = SpiderQuery()


@dataclass
class SchemaInfo:
    """Columns per table (lower case, schema order) and Spider's foreign-key canonical map."""

    columns: dict[str, list[str]] = field(default_factory=dict)
    fk_map: dict[str, str] = field(default_factory=dict)


def schema_info(schema: Any) -> SchemaInfo | None:
    """Accept ``{table: [columns]}`` or a ``sqlsynth.db`` ``Schema`` (tables with foreign keys)."""
    if schema is None:
        return None
    if isinstance(schema, SchemaInfo):
        return schema
    info = SchemaInfo()
    if isinstance(schema, Mapping):
        for table, cols in schema.items():
            info.columns[str(table).lower()] = [_col_name(c) for c in cols]
        return info
    tables = getattr(schema, "tables", None)
    if tables is None:
        raise TypeError(f"unsupported schema type {type(schema).__name__}")
    pairs: list[tuple[str, str]] = []
    for table in tables:
        tname = table.name.lower()
        info.columns[tname] = [_col_name(c) for c in table.columns]
        for fk in getattr(table, "foreign_keys", ()) or ():
            for col, ref_col in zip(fk.columns, fk.ref_columns):
                pairs.append((f"__{tname}.{col.lower()}__",
                               f"__{fk.ref_table.lower()}.{ref_col.lower()}__"))
    info.fk_map = _foreign_key_map(info.columns, pairs)
    return info


def _col_name(col: Any) -> str:
    return (col if isinstance(col, str) else col.name).lower()


def _foreign_key_map(columns: Mapping[str, list[str]], pairs: Iterable[tuple[str, str]]) -> dict:
    """Map every column of a foreign-key group to the group's earliest column in schema order,
    so that joining on either side of a key compares equal (Spider's ``kmap``)."""
    order = {f"__{t}.{c}__": i for i, (t, c) in
             enumerate((t, c) for t, cols in columns.items() for c in cols)}
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[rb] = ra
    groups: dict[str, list[str]] = {}
    for col in parent:
        groups.setdefault(find(col), []).append(col)
    result: dict[str, str] = {}
    for members in groups.values():
        rep = min(members, key=lambda c: (order.get(c, len(order)), c))
        for col in members:
            result[col] = rep
    return result


@dataclass
class _Scope:
    """Name resolution for one SELECT: aliases (inherited by subqueries) and FROM tables."""

    aliases: dict[str, str]
    tables: list[str]
    select_aliases: dict[str, exp.Expression] = field(default_factory=dict)
    select_items: list[exp.Expression] = field(default_factory=list)
    other_nested: list[SpiderQuery] = field(default_factory=list)


class _Builder:
    def __init__(self, schema: SchemaInfo | None, dialect: str) -> None:
        self.schema = schema
        self.dialect = dialect

    # ----- queries -------------------------------------------------------------------------
    def query(self, node: exp.Expression, outer: dict[str, str] | None = None) -> SpiderQuery:
        node = _unwrap_query(node)
        if isinstance(node, exp.SetOperation):
            return self._set_chain(node, outer)
        if not isinstance(node, exp.Select):
            raise SQLParseError(f"not a query: {type(node).__name__}")
        return self._select(node, outer, None, None)

    def _set_chain(self, node: exp.SetOperation, outer: dict[str, str] | None) -> SpiderQuery:
        # Spider reads "q1 op1 q2 op2 q3" left to right: q1 is the main query and
        # op1 holds "q2 op2 q3"; an ORDER BY/LIMIT after the chain belongs to the last query.
        parts: list[Any] = []
        _flatten_set(node, parts)
        order, limit = node.args.get("order"), node.args.get("limit")
        built: SpiderQuery | None = None
        for i in range(len(parts) - 1, -1, -2):
            sel = _unwrap_query(parts[i])
            last = i == len(parts) - 1
            if isinstance(sel, exp.SetOperation):
                q = self._set_chain(sel, outer)
            elif isinstance(sel, exp.Select):
                q = self._select(sel, outer, order if last else None, limit if last else None)
            else:
                raise SQLParseError(f"not a query: {type(sel).__name__}")
            if built is not None:
                q = _attach(q, parts[i + 1], built)
            built = q
        assert built is not None
        return built

    def _select(self, sel: exp.Select, outer: dict[str, str] | None,
                order: exp.Order | None, limit: exp.Expression | None) -> SpiderQuery:
        aliases = dict(outer or {})
        ctes: list[tuple[str, SpiderQuery]] = []
        with_ = sel.args.get("with_") or sel.args.get("with")
        if with_ is not None:
            for cte in with_.expressions:
                name = cte.alias_or_name.lower()
                ctes.append((name, self.query(cte.this, aliases)))
                aliases[name] = name
        from_items: list[exp.Expression] = []
        from_ = sel.args.get("from_") or sel.args.get("from")
        if from_ is not None:
            from_items.append(from_.this)
        joins = list(sel.args.get("joins") or [])
        from_items.extend(j.this for j in joins)
        scope = _Scope(aliases=aliases, tables=[])
        for item in from_items:
            if isinstance(item, exp.Table):
                name = item.name.lower()
                aliases[name] = name
                if item.alias:
                    aliases[item.alias.lower()] = name
                scope.tables.append(name)
            elif item.alias:
                aliases[item.alias.lower()] = item.alias.lower()
        table_units: list[tuple[str, Any]] = []
        for item in from_items:
            item = unparen(item)
            if isinstance(item, exp.Table):
                table_units.append(("table_unit", f"__{item.name.lower()}__"))
            elif isinstance(item, exp.Subquery):
                table_units.append(("sql", self.query(item.this, aliases)))
            else:
                table_units.append(("table_unit", f"__{self._text(item, scope)}__"))

        for projection in sel.expressions:
            inner = projection.this if isinstance(projection, exp.Alias) else projection
            if isinstance(projection, exp.Alias):
                scope.select_aliases[projection.alias.lower()] = inner
            scope.select_items.append(inner)

        from_conds: list[Any] = []
        for join in joins:
            on = join.args.get("on")
            if on is None:
                continue
            conds = self.conditions(on, scope)
            if from_conds and conds:
                from_conds.append("and")
            from_conds.extend(conds)

        select_units = tuple(self._select_unit(e, scope) for e in scope.select_items)
        where = sel.args.get("where")
        group = sel.args.get("group")
        having = sel.args.get("having")
        order = sel.args.get("order") or order
        limit = sel.args.get("limit") or limit
        order_dir, order_units = "asc", ()
        if order is not None and order.expressions:
            order_units = tuple(self.val_unit(o.this, scope, output=True)
                                for o in order.expressions)
            for o in order.expressions:
                if o.args.get("desc") is True:
                    order_dir = "desc"
                elif o.args.get("desc") is False:
                    order_dir = "asc"
        limit_text = None
        if limit is not None:
            limit_expr = limit.expression if isinstance(limit, exp.Limit) else limit
            limit_text = limit_expr.sql(dialect=self.dialect) if limit_expr is not None else ""
        return SpiderQuery(
            select=select_units,
            distinct=bool(sel.args.get("distinct")),
            table_units=tuple(table_units),
            from_conds=tuple(from_conds),
            where=tuple(self.conditions(where.this, scope)) if where is not None else (),
            group_by=tuple(self.col_unit(g, scope, output=True)
                           for g in (group.expressions if group is not None else [])),
            having=tuple(self.conditions(having.this, scope)) if having is not None else (),
            order_dir=order_dir,
            order_by=order_units,
            limit=limit_text,
            other_nested=tuple(scope.other_nested),
            ctes=tuple(ctes),
        )

    # ----- units ---------------------------------------------------------------------------
    def _select_unit(self, node: exp.Expression, scope: _Scope) -> tuple[str, ValUnit]:
        node = unparen(node)
        agg = AGG_NAMES.get(type(node))
        if agg is not None:
            return agg, self.val_unit(node.this if node.this is not None else exp.Star(), scope)
        return "none", self.val_unit(node, scope)

    def val_unit(self, node: exp.Expression, scope: _Scope, output: bool = False) -> ValUnit:
        node = self._output_ref(unparen(node), scope) if output else unparen(node)
        op = UNIT_OPS.get(type(node))
        if op is not None:
            return op, self.col_unit(node.this, scope), self.col_unit(node.expression, scope)
        return "none", self.col_unit(node, scope), None

    def col_unit(self, node: exp.Expression, scope: _Scope, output: bool = False) -> ColUnit:
        node = self._output_ref(unparen(node), scope) if output else unparen(node)
        agg = AGG_NAMES.get(type(node))
        if agg is not None:
            arg = node.this
            distinct = isinstance(arg, exp.Distinct)
            return agg, self.column_id(_agg_argument(node), scope), distinct
        if isinstance(node, exp.Distinct):
            return "none", self.column_id(node, scope), True
        return "none", self.column_id(node, scope), False

    def column_id(self, node: exp.Expression, scope: _Scope) -> str:
        node = unparen(node)
        if isinstance(node, exp.Distinct) and len(node.expressions) == 1:
            node = unparen(node.expressions[0])
        if isinstance(node, exp.Star) or (isinstance(node, exp.Column)
                                          and isinstance(node.this, exp.Star)):
            return ALL_COLUMNS
        if isinstance(node, exp.Column) and not is_quoted_value(node):
            return self._resolve(node, scope)
        return f"__{self._text(node, scope)}__"

    def _resolve(self, col: exp.Column, scope: _Scope) -> str:
        name = col.name.lower()
        if col.table:
            qualifier = col.table.lower()
            return f"__{scope.aliases.get(qualifier, qualifier)}.{name}__"
        if self.schema is not None:
            for table in scope.tables:
                if name in self.schema.columns.get(table, ()):
                    return f"__{table}.{name}__"
        if len(scope.tables) == 1:
            return f"__{scope.tables[0]}.{name}__"
        return f"__{name}__"

    def _output_ref(self, node: exp.Expression, scope: _Scope) -> exp.Expression:
        """ORDER BY/GROUP BY/HAVING may name a SELECT alias or position; use its expression."""
        if isinstance(node, exp.Literal) and not node.is_string and node.this.isdigit():
            pos = int(node.this)
            if 1 <= pos <= len(scope.select_items):
                return unparen(scope.select_items[pos - 1])
        if isinstance(node, exp.Column) and not node.table:
            alias = node.name.lower()
            if alias in scope.select_aliases and not self._is_real_column(alias, scope):
                return unparen(scope.select_aliases[alias])
        return node

    def _is_real_column(self, name: str, scope: _Scope) -> bool:
        if self.schema is None:
            return False
        return any(name in self.schema.columns.get(t, ()) for t in scope.tables)

    def _text(self, node: exp.Expression, scope: _Scope) -> str:
        """Canonical text of a non-column expression: columns resolved, literals dropped,
        subqueries recorded as nested queries."""

        def rewrite(n: exp.Expression) -> exp.Expression:
            if isinstance(n, exp.Subquery):
                scope.other_nested.append(self.query(n.this, scope.aliases))
                return exp.Placeholder(this="subquery")
            if isinstance(n, exp.Literal) or is_quoted_value(n):
                return exp.Placeholder()
            if isinstance(n, exp.Column) and not isinstance(n.this, exp.Star):
                return exp.to_identifier(self._resolve(n, scope).strip("_"))
            return n

        return node.transform(rewrite, copy=True).sql(dialect=self.dialect,
                                                       normalize=True).lower()

    # ----- conditions ----------------------------------------------------------------------
    def conditions(self, node: exp.Expression, scope: _Scope) -> list[Any]:
        """One clause's flat condition list, as Spider's parser leaves it (see below)."""
        return _drop_after_column_value(self.condition(node, scope))

    def condition(self, node: exp.Expression, scope: _Scope) -> list[Any]:
        node = unparen(node)
        if isinstance(node, (exp.And, exp.Or)):
            joiner = "and" if isinstance(node, exp.And) else "or"
            return (self.condition(node.this, scope) + [joiner]
                    + self.condition(node.expression, scope))
        return [self.cond_unit(node, scope)]

    def cond_unit(self, node: exp.Expression, scope: _Scope) -> tuple:
        not_op = False
        node = unparen(node)
        if isinstance(node, exp.Not):
            not_op, node = True, unparen(node.this)
        if isinstance(node, exp.Escape):
            node = node.this
        if node.args.get("negate"):  # sqlglot keeps some NOT forms (NOT LIKE) as a flag
            not_op = True
        op = COMPARISONS.get(type(node))
        if op is not None:
            return (not_op, op, self.val_unit(node.this, scope),
                    self.value(node.expression, scope), None)
        if isinstance(node, exp.In):
            query = node.args.get("query")
            if query is not None:
                val1: Any = self.query(query, scope.aliases)
            else:
                val1 = ("value", tuple(self._text(v, scope) for v in node.expressions))
            return not_op, "in", self.val_unit(node.this, scope), val1, None
        if isinstance(node, exp.Between):
            return (not_op, "between", self.val_unit(node.this, scope),
                    self.value(node.args["low"], scope), self.value(node.args["high"], scope))
        if isinstance(node, exp.Exists):
            return (not_op, "exists", ("none", ("none", ALL_COLUMNS, False), None),
                    self.query(node.this, scope.aliases), None)
        return not_op, "expr", self.val_unit(node, scope), None, None

    def value(self, node: exp.Expression, scope: _Scope) -> Any:
        node = unparen(node)
        if isinstance(node, exp.Subquery):
            return self.query(node.this, scope.aliases)
        if isinstance(node, (exp.Select, exp.SetOperation)):
            return self.query(node, scope.aliases)
        if isinstance(node, exp.Column) and not is_quoted_value(node):
            return self.col_unit(node, scope)
        number = _number(node)
        if number is not None:  # Spider reads numbers as floats: 1 and 1.0 are one value
            return ("number", number)
        if isinstance(node, exp.Literal):
            return ("value", node.this)
        if is_quoted_value(node):
            return ("value", node.name)
        return ("value", self._text(node, scope))


def _drop_after_column_value(conds: list[Any]) -> list[Any]:
    """Spider's parser reads a column on the right of a comparison by skipping every token up
    to the next ``,``, ``)``, AND, clause or join keyword, so in ``a = b OR c = 1 AND d = 2``
    the OR-joined ``c = 1`` vanishes. Reproduced so that counts and matches equal Spider's."""
    out: list[Any] = []
    skipping = False
    for i, item in enumerate(conds):
        if i % 2 == 1:  # connector
            skipping = skipping and item == "or"
            if not skipping:
                out.append(item)
            continue
        if skipping:
            continue
        out.append(item)
        last = item[4] if item[1] == "between" else item[3]
        skipping = _is_col_unit(last)
    return out


def _is_col_unit(value: Any) -> bool:
    return (isinstance(value, tuple) and len(value) == 3 and isinstance(value[1], str)
            and isinstance(value[2], bool))


def _number(node: exp.Expression) -> float | None:
    sign = 1.0
    if isinstance(node, exp.Neg):
        sign, node = -1.0, unparen(node.this)
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            return sign * float(node.this)
        except ValueError:
            return None
    return None


def _unwrap_query(node: exp.Expression) -> exp.Expression:
    while isinstance(node, (exp.Subquery, exp.Paren)):
        node = node.this
    return node


def _flatten_set(node: exp.Expression, parts: list[Any], top: bool = True) -> None:
    """Linearise a set-operation tree into ``[q1, op1, q2, op2, ...]``. A parenthesised inner
    chain with its own ORDER BY/LIMIT stays one part (it is built as its own chain)."""
    node = _unwrap_query(node)
    own_modifiers = node.args.get("order") or node.args.get("limit")
    if isinstance(node, exp.SetOperation) and (top or not own_modifiers):
        _flatten_set(node.this, parts, top=False)
        parts.append(SET_OPS.get(type(node), "union"))
        _flatten_set(node.expression, parts, top=False)
    else:
        parts.append(node)


def _attach(query: SpiderQuery, op: str, continuation: SpiderQuery) -> SpiderQuery:
    key = "except_" if op == "except" else op
    return replace(query, **{key: continuation})


def _agg_argument(node: exp.Expression) -> exp.Expression:
    arg = node.this
    if arg is None:
        return exp.Star()
    if isinstance(arg, exp.Distinct) and len(arg.expressions) == 1:
        return arg.expressions[0]
    return arg


def build_query(sql: str | exp.Expression, dialect: str = "sqlite",
                schema: Any = None) -> SpiderQuery:
    """Parse ``sql`` (or take a tree) into Spider's form; raises ``SQLParseError``."""
    tree = parse_single(sql, dialect) if isinstance(sql, str) else sql
    builder = _Builder(schema_info(schema), dialect)
    try:
        return builder.query(tree)
    except SQLParseError:
        raise
    except (AttributeError, KeyError, TypeError, ValueError, RecursionError) as err:
        raise SQLParseError(f"unsupported SQL shape: {type(err).__name__}: {err}") from err
