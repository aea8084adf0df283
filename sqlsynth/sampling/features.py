"""The SQL features a query uses, read off its sqlglot tree (for sampled and LLM SQL alike).

Reported per run next to the hardness levels, so a dataset's coverage of joins, nesting, set
operations ... is a figure rather than a hope.
"""

from __future__ import annotations

from sqlglot import exp

from sqlsynth.sql.parse import SQLParseError, parse_single

FEATURES = (
    "join", "self_join", "aggregate", "group_by", "having", "order_by", "limit", "distinct",
    "like", "between", "in_list", "is_null", "subquery_in", "subquery_not_in", "exists",
    "scalar_subquery", "correlated", "set_operation", "case",
)


def _sources(select: exp.Select) -> list[exp.Table]:
    tables = []
    from_ = select.args.get("from_") or select.args.get("from")
    if from_ is not None and isinstance(from_.this, exp.Table):
        tables.append(from_.this)
    tables.extend(j.this for j in select.args.get("joins") or [] if isinstance(j.this, exp.Table))
    return tables


def _names(select: exp.Select) -> set[str]:
    return {(t.alias_or_name or "").lower() for t in _sources(select)} | {
        t.name.lower() for t in _sources(select)}


def _is_correlated(sub: exp.Select) -> bool:
    """A column of ``sub`` (or of its own subqueries) names a table none of them define."""
    defined: set[str] = set()
    for inner in sub.find_all(exp.Select):
        defined |= _names(inner)
    return any(c.table and c.table.lower() not in defined for c in sub.find_all(exp.Column))


def features_of(tree: exp.Expression) -> tuple[str, ...]:
    found: set[str] = set()
    for select in tree.find_all(exp.Select):
        tables = _sources(select)
        if select.args.get("joins"):
            found.add("join")
        names = [t.name.lower() for t in tables]
        if len(names) != len(set(names)):
            found.add("self_join")
        if select.args.get("group"):
            found.add("group_by")
        if select.args.get("having"):
            found.add("having")
        if select.args.get("distinct"):
            found.add("distinct")
        if select is not tree and isinstance(select.parent, exp.Subquery | exp.Exists) \
                and _is_correlated(select):
            found.add("correlated")
    if tree.find(exp.AggFunc):
        found.add("aggregate")
    if tree.find(exp.Order):
        found.add("order_by")
    if tree.find(exp.Limit):
        found.add("limit")
    if any(isinstance(c.this, exp.Distinct) for c in tree.find_all(exp.Count)) \
            or tree.find(exp.Distinct):
        found.add("distinct")
    for kind, name in ((exp.Like, "like"), (exp.ILike, "like"), (exp.Between, "between"),
                       (exp.Is, "is_null"), (exp.Exists, "exists"), (exp.Case, "case"),
                       (exp.SetOperation, "set_operation")):
        if tree.find(kind):
            found.add(name)
    for node in tree.find_all(exp.In):
        if node.args.get("query") is not None:
            negated = isinstance(node.parent, exp.Not)
            found.add("subquery_not_in" if negated else "subquery_in")
        elif node.expressions:
            found.add("in_list")
    for sub in tree.find_all(exp.Subquery):
        if not isinstance(sub.parent, exp.In | exp.From | exp.Join | exp.Exists) and \
                isinstance(sub.this, exp.Select):
            found.add("scalar_subquery")
    return tuple(f for f in FEATURES if f in found)


def sql_features(sql: str, dialect: str = "sqlite") -> tuple[str, ...]:
    """The FEATURES ``sql`` uses, in FEATURES order; () for SQL that does not parse."""
    try:
        return features_of(parse_single(sql, dialect))
    except (SQLParseError, ValueError):
        return ()
