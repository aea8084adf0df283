"""Spider's SQL hardness (easy / medium / hard / extra), computed on sqlglot trees.

The counts follow Spider's evaluation script rule for rule, including its effective behaviour
where that differs from its comments, so that our labels equal Spider's on Spider-style SQL:

* component1 = one each for WHERE, GROUP BY, ORDER BY, LIMIT being present, plus
  (number of FROM table units - 1) for joins (a FROM subquery is a table unit), plus every OR
  connector and every LIKE condition in the join conditions, WHERE and HAVING.
* component2 = subqueries used as condition values in the join conditions, WHERE and HAVING,
  plus one for an INTERSECT / UNION / EXCEPT continuation (a chain ``a UNION b UNION c`` is
  one continuation at the top level). FROM subqueries do not count here.
* others = one each for: more than one "aggregation", more than one SELECT column, more than
  one WHERE condition, more than one GROUP BY key. Spider's aggregation total adds the
  aggregate around each SELECT item (not those inside ``(max(a) - min(a))``), GROUP BY keys
  and ORDER BY keys, but its WHERE/HAVING terms
  look at the first field of each condition entry, which is the NOT flag (and, for HAVING,
  also the AND/OR connectors). So ``HAVING count(*) > 1`` adds nothing while ``WHERE a NOT IN
  (...)`` adds one. We reproduce exactly that.

Extension beyond Spider's grammar: subqueries that Spider cannot parse (scalar subqueries in
SELECT, ORDER BY, function arguments) count in component2 like condition subqueries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlsynth.sql.spider import SpiderQuery, build_query

HARDNESS_LEVELS = ("easy", "medium", "hard", "extra")


@dataclass(frozen=True)
class ComponentCounts:
    """Spider's three hardness counters of one query (top level only, as Spider does)."""

    component1: int
    component2: int
    others: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def _conds(condition: Sequence[Any]) -> list[tuple]:
    return list(condition[::2])


def _connectors(condition: Sequence[Any]) -> list[str]:
    return list(condition[1::2])


def count_component1(q: SpiderQuery) -> int:
    count = sum((bool(q.where), bool(q.group_by), bool(q.order_by), q.limit is not None))
    if q.table_units:
        count += len(q.table_units) - 1
    connectors = _connectors(q.from_conds) + _connectors(q.where) + _connectors(q.having)
    count += connectors.count("or")
    conds = _conds(q.from_conds) + _conds(q.where) + _conds(q.having)
    count += sum(1 for c in conds if c[1] == "like")
    return count


def nested_queries(q: SpiderQuery) -> list[SpiderQuery]:
    """Spider's ``get_nestedSQL``: condition-value subqueries, then the set continuation."""
    nested: list[SpiderQuery] = []
    for cond in _conds(q.from_conds) + _conds(q.where) + _conds(q.having):
        nested.extend(v for v in (cond[3], cond[4]) if isinstance(v, SpiderQuery))
    nested.extend(v for v in (q.intersect, q.except_, q.union) if v is not None)
    return nested


def count_component2(q: SpiderQuery) -> int:
    return len(nested_queries(q)) + len(q.other_nested)


def _select_aggregations(q: SpiderQuery) -> int:
    # Spider counts the aggregate applied to each SELECT item only: the aggregates inside
    # ``(max(a) - min(a))`` sit in its column units and are not looked at.
    return sum(1 for agg, _ in q.select if agg != "none")


def count_others(q: SpiderQuery) -> int:
    aggregations = _select_aggregations(q)
    aggregations += sum(1 for c in _conds(q.where) if c[0])
    aggregations += sum(1 for cu in q.group_by if cu[0] != "none")
    aggregations += sum(1 for _, cu1, cu2 in q.order_by for cu in (cu1, cu2)
                        if cu is not None and cu[0] != "none")
    aggregations += sum(1 for c in _conds(q.having) if c[0]) + len(_connectors(q.having))
    return sum((aggregations > 1, len(q.select) > 1, len(_conds(q.where)) > 1,
                len(q.group_by) > 1))


def counts_of(q: SpiderQuery) -> ComponentCounts:
    return ComponentCounts(count_component1(q), count_component2(q), count_others(q))


def hardness_from_counts(c: ComponentCounts) -> str:
    """Spider's thresholds, in Spider's order of tests."""
    c1, c2, o = c.component1, c.component2, c.others
    if c1 <= 1 and o == 0 and c2 == 0:
        return "easy"
    if (o <= 2 and c1 <= 1 and c2 == 0) or (c1 <= 2 and o < 2 and c2 == 0):
        return "medium"
    if ((o > 2 and c1 <= 2 and c2 == 0) or (2 < c1 <= 3 and o <= 2 and c2 == 0)
            or (c1 <= 1 and o == 0 and c2 <= 1)):
        return "hard"
    return "extra"


def component_counts(sql: str, dialect: str = "sqlite") -> ComponentCounts:
    """Spider's count_component1 / count_component2 / count_others; raises SQLParseError."""
    return counts_of(build_query(sql, dialect))


def spider_hardness(sql: str, dialect: str = "sqlite") -> str:
    """"easy" | "medium" | "hard" | "extra", as Spider's ``eval_hardness``."""
    return hardness_from_counts(component_counts(sql, dialect))


def difficulty_score(sql: str, dialect: str = "sqlite") -> int:
    """One integer for custom thresholds: component1 + 2 * component2 + others.

    Nested queries weigh double because Spider already treats one of them as worth a whole
    level. With the default thresholds/labels use ``spider_hardness`` instead, so labels equal
    Spider's exactly; this score is monotone in every counter but not a re-encoding of them.
    """
    c = component_counts(sql, dialect)
    return c.component1 + 2 * c.component2 + c.others
