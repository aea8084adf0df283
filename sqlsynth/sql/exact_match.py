"""Spider's exact-set-match (EM) and its partial component scores, on sqlglot trees.

Two queries match when every component agrees as Spider compares it: SELECT items as a
multiset (column order is irrelevant), WHERE conditions as a multiset plus the set of AND/OR
connectors, GROUP BY column names, GROUP BY+HAVING, ORDER BY (keys in order, direction, and
whether a LIMIT is present), the keyword set, each INTERSECT/UNION/EXCEPT continuation
recursively, and finally the FROM table units as a multiset (join order is irrelevant).
Literal values and DISTINCT are ignored; aliases are resolved to table names; with a schema,
unqualified columns are qualified and foreign-key columns are identified with the column
they reference (Spider's ``kmap``).

Like Spider, what is ignored depends on depth (its ``rebuild_sql_val``/``rebuild_sql_col``
reach only so far): values, DISTINCT, the LIMIT value and foreign keys are normalised at the
top and in set-operation continuations; a subquery used as a condition value has only its
values dropped and is compared as a whole structure (order-, DISTINCT- and LIMIT-sensitive);
a FROM subquery is compared exactly as written (values included, numbers as numbers).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

from sqlsynth.sql.parse import SQLParseError
from sqlsynth.sql.spider import EMPTY_QUERY, SchemaInfo, SpiderQuery, build_query, schema_info

PARTIAL_COMPONENTS = ("select", "select(no AGG)", "where", "where(no OP)", "group(no Having)",
                      "group", "order", "and/or", "IUEN", "keywords")

Totals = tuple[int, int, int]  # label_total, pred_total, matched count


def _table_of(col_id: str) -> str:
    return col_id.strip("_").split(".", 1)[0] if "." in col_id else ""


def _canonical(q: SpiderQuery, info: SchemaInfo | None) -> SpiderQuery:
    """Spider's ``rebuild_sql_val`` + ``rebuild_sql_col`` on the top query.

    Like Spider, the depth decides what is ignored. At the top and in its INTERSECT/UNION/
    EXCEPT continuations, values, DISTINCT and the LIMIT value are dropped and foreign-key
    columns are mapped (using the top query's FROM tables, as Spider does). Subqueries used
    as condition values lose their values only: their DISTINCT, LIMIT value and own columns
    are compared as written. FROM subqueries are compared exactly as written.
    """
    fk_map = info.fk_map if info is not None else {}
    tables = {tu[1].strip("_") for tu in q.table_units if tu[0] == "table_unit"}
    return _rebuild(q, fk_map, tables)


def _rebuild(q: SpiderQuery, fk_map: dict[str, str], tables: set[str]) -> SpiderQuery:
    def col(cu: Any) -> Any:
        if cu is None:
            return None
        agg, cid, _ = cu
        if cid in fk_map and _table_of(cid) in tables:
            cid = fk_map[cid]
        return agg, cid, False

    def val_unit(vu: Any) -> Any:
        return vu[0], col(vu[1]), col(vu[2])

    def condition(cond: tuple) -> tuple:
        return tuple((c[0], c[1], val_unit(c[2]), c[3], c[4]) if i % 2 == 0 else c
                     for i, c in enumerate(_drop_values(cond)))

    def sub(v: SpiderQuery | None) -> SpiderQuery | None:
        return None if v is None else _rebuild(v, fk_map, tables)

    return replace(
        q,
        select=tuple((agg, val_unit(vu)) for agg, vu in q.select),
        distinct=False,
        from_conds=condition(q.from_conds),
        where=condition(q.where),
        group_by=tuple(col(cu) for cu in q.group_by),
        having=condition(q.having),
        order_by=tuple(val_unit(vu) for vu in q.order_by),
        limit=None if q.limit is None else "limit",
        intersect=sub(q.intersect), union=sub(q.union), except_=sub(q.except_),
        other_nested=tuple(_values_only(n) for n in q.other_nested),
        ctes=tuple(("cte", c) for _, c in q.ctes),
    )


def _drop_values(cond: tuple) -> tuple:
    """Spider's ``rebuild_condition_val``: literal and column operands become None, subquery
    operands keep their structure with their own values dropped."""
    def value(v: Any) -> Any:
        return _values_only(v) if isinstance(v, SpiderQuery) else None

    return tuple((c[0], c[1], c[2], value(c[3]), value(c[4])) if i % 2 == 0 else c
                 for i, c in enumerate(cond))


def _values_only(q: SpiderQuery) -> SpiderQuery:
    """Spider's ``rebuild_sql_val`` alone (what a condition subquery gets)."""
    def sub(v: SpiderQuery | None) -> SpiderQuery | None:
        return None if v is None else _values_only(v)

    return replace(
        q,
        from_conds=_drop_values(q.from_conds), where=_drop_values(q.where),
        having=_drop_values(q.having),
        intersect=sub(q.intersect), union=sub(q.union), except_=sub(q.except_),
        other_nested=tuple(_values_only(n) for n in q.other_nested),
    )


def _multiset_overlap(pred: list, label: list) -> int:
    return sum((Counter(pred) & Counter(label)).values())


def _select(pred: SpiderQuery, label: SpiderQuery) -> tuple[Totals, Totals]:
    lt, pt = len(label.select), len(pred.select)
    with_agg = _multiset_overlap(list(pred.select), list(label.select))
    without = _multiset_overlap([u[1] for u in pred.select], [u[1] for u in label.select])
    return (lt, pt, with_agg), (lt, pt, without)


def _where(pred: SpiderQuery, label: SpiderQuery) -> tuple[Totals, Totals]:
    pc, lc = list(pred.where[::2]), list(label.where[::2])
    lt, pt = len(lc), len(pc)
    return (lt, pt, _multiset_overlap(pc, lc)), \
        (lt, pt, _multiset_overlap([c[2] for c in pc], [c[2] for c in lc]))


def _group(pred: SpiderQuery, label: SpiderQuery) -> Totals:
    def names(q: SpiderQuery) -> list[str]:
        return [cu[1].split(".", 1)[1] if "." in cu[1] else cu[1] for cu in q.group_by]

    return len(label.group_by), len(pred.group_by), _multiset_overlap(names(pred), names(label))


def _having(pred: SpiderQuery, label: SpiderQuery) -> Totals:
    lt, pt = int(bool(label.group_by)), int(bool(pred.group_by))
    same = (lt == pt == 1 and [c[1] for c in pred.group_by] == [c[1] for c in label.group_by]
            and pred.having == label.having)
    return lt, pt, int(same)


def _order(pred: SpiderQuery, label: SpiderQuery) -> Totals:
    lt, pt = int(bool(label.order_by)), int(bool(pred.order_by))
    same = (bool(label.order_by) and (pred.order_dir, pred.order_by) ==
            (label.order_dir, label.order_by) and (pred.limit is None) == (label.limit is None))
    return lt, pt, int(same)


def _and_or(pred: SpiderQuery, label: SpiderQuery) -> Totals:
    p, lab = set(pred.where[1::2]), set(label.where[1::2])
    return (1, 1, 1) if p == lab else (len(p), len(lab), 0)


def _iuen(pred: SpiderQuery, label: SpiderQuery) -> Totals:
    lt = pt = cnt = 0
    for op, label_sub in label.set_ops.items():
        pred_sub = pred.set_ops[op]
        lt += label_sub is not None
        pt += pred_sub is not None
        if pred_sub is not None and label_sub is not None:
            cnt += _exact(pred_sub, label_sub)
    return lt, pt, cnt


def keywords(q: SpiderQuery) -> set[str]:
    """Spider's keyword set of one query level."""
    found: set[str] = set()
    if q.where:
        found.add("where")
    if q.group_by:
        found.add("group")
    if q.having:
        found.add("having")
    if q.order_by:
        found.update((q.order_dir, "order"))
    if q.limit is not None:
        found.add("limit")
    found.update(op for op, sub in q.set_ops.items() if sub is not None)
    conditions = q.from_conds + q.where + q.having
    if "or" in conditions[1::2]:
        found.add("or")
    units = [c for c in (q.from_conds[::2] + q.where[::2] + q.having[::2])]
    if any(c[0] for c in units):
        found.add("not")
    if any(c[1] == "in" for c in units):
        found.add("in")
    if any(c[1] == "like" for c in units):
        found.add("like")
    return found


def _keywords(pred: SpiderQuery, label: SpiderQuery) -> Totals:
    p, lab = keywords(pred), keywords(label)
    return len(lab), len(p), len(p & lab)


def _scores(totals: Totals) -> dict[str, float]:
    label_total, pred_total, cnt = totals
    hit = 1 if (pred_total == label_total and cnt == pred_total) else 0
    return {"acc": hit, "rec": hit, "f1": float(hit), "label_total": label_total,
            "pred_total": pred_total}


def _partial(pred: SpiderQuery, label: SpiderQuery) -> dict[str, dict[str, float]]:
    sel, sel_no_agg = _select(pred, label)
    where, where_no_op = _where(pred, label)
    parts: dict[str, Totals] = {
        "select": sel, "select(no AGG)": sel_no_agg,
        "where": where, "where(no OP)": where_no_op,
        "group(no Having)": _group(pred, label), "group": _having(pred, label),
        "order": _order(pred, label), "and/or": _and_or(pred, label),
        "IUEN": _iuen(pred, label), "keywords": _keywords(pred, label),
    }
    return {name: _scores(t) for name, t in parts.items()}


def _exact(pred: SpiderQuery, label: SpiderQuery) -> int:
    if any(s["f1"] != 1 for s in _partial(pred, label).values()):
        return 0
    if Counter(pred.other_nested) != Counter(label.other_nested):
        return 0
    if Counter(c for _, c in pred.ctes) != Counter(c for _, c in label.ctes):
        return 0
    if label.table_units and Counter(pred.table_units) != Counter(label.table_units):
        return 0
    return 1


def _prepare(gold: str, pred: str, dialect: str, schema: Any
             ) -> tuple[SpiderQuery, SpiderQuery]:
    info = schema_info(schema)
    label = _canonical(build_query(gold, dialect, info), info)
    try:
        guess = _canonical(build_query(pred, dialect, info), info)
    except SQLParseError:
        guess = EMPTY_QUERY
    return label, guess


def exact_set_match(gold: str, pred: str, dialect: str = "sqlite", schema: Any = None) -> bool:
    """Spider's exact-set-match of ``pred`` against ``gold``.

    ``schema`` is ``{table: [columns]}`` or a ``sqlsynth.db`` ``Schema`` (which also brings
    foreign keys). An unparseable prediction never matches; an unparseable gold raises
    ``SQLParseError``.
    """
    label, guess = _prepare(gold, pred, dialect, schema)
    return bool(_exact(guess, label))


def partial_match_scores(gold: str, pred: str, dialect: str = "sqlite", schema: Any = None
                         ) -> dict[str, dict[str, float]]:
    """Per-component scores as Spider reports them: for each name in ``PARTIAL_COMPONENTS``,
    ``acc``/``rec``/``f1`` (1 when the component matches) and the two component totals."""
    label, guess = _prepare(gold, pred, dialect, schema)
    return _partial(guess, label)

