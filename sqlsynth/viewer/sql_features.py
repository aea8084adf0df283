"""Which SQL constructs a query uses (joins, aggregates, nesting, set operations, ...).

Read from the sqlglot tree, so ``count`` in a string literal or a column named ``join_date``
is not mistaken for a feature. A query sqlglot cannot parse, or too long or deeply nested to
parse safely (``sqlsynth.sql.parse.check_size``), counts under ``unparsed``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import sqlglot
from sqlglot import exp

from sqlsynth.sql.parse import SQLTooLargeError, check_size

#: feature name -> what it means, in the order the data card shows them
FEATURES = {
    "join": "JOIN of two or more tables",
    "aggregate": "aggregate function (COUNT, SUM, AVG, MIN, MAX, ...)",
    "group_by": "GROUP BY",
    "having": "HAVING",
    "order_by": "ORDER BY",
    "limit": "LIMIT / FETCH",
    "distinct": "SELECT DISTINCT",
    "nested": "subquery (in WHERE, FROM, SELECT, ...)",
    "set_operation": "UNION / INTERSECT / EXCEPT",
    "cte": "WITH (common table expression)",
    "window": "window function (OVER ...)",
    "case": "CASE expression",
    "like": "LIKE pattern",
}


def sql_features(sql: str, dialect: str = "sqlite") -> set[str]:
    """The :data:`FEATURES` ``sql`` uses; ``{"unparsed"}`` when sqlglot cannot read it."""
    try:  # stored SQL is whatever the file holds: size first, then any parser failure
        check_size(sql)
        tree = sqlglot.parse_one(sql, read=dialect)
    except (SQLTooLargeError, RecursionError, Exception):  # noqa: BLE001
        return {"unparsed"}
    if tree is None:
        return {"unparsed"}
    found: set[str] = set()
    checks: list[tuple[str, type | tuple[type, ...]]] = [
        ("join", exp.Join), ("aggregate", exp.AggFunc), ("group_by", exp.Group),
        ("having", exp.Having), ("order_by", exp.Order), ("limit", (exp.Limit, exp.Fetch)),
        ("set_operation", (exp.Union, exp.Intersect, exp.Except)), ("cte", exp.With),
        ("window", exp.Window), ("case", exp.Case), ("like", (exp.Like, exp.ILike)),
    ]
    for name, kind in checks:
        if tree.find(kind) is not None:
            found.add(name)
    if any(select.args.get("distinct") for select in tree.find_all(exp.Select)):
        found.add("distinct")
    if tree.find(exp.Subquery) is not None or any(
        isinstance(node.parent, (exp.In, exp.Exists, exp.Binary, exp.Paren))
        for node in tree.find_all(exp.Select) if node is not tree
    ):
        found.add("nested")
    return found


def feature_coverage(sqls: Iterable[str], dialect: str = "sqlite") -> Counter[str]:
    """How many of ``sqls`` use each feature (``unparsed`` counts the unreadable ones)."""
    counts: Counter[str] = Counter()
    for sql in sqls:
        counts.update(sql_features(sql, dialect))
    return counts
