"""Exact-set-match and execution match as Spider's ``evaluation.py`` computes them.

Works on the parse of ``spider_parser``. Before comparing, the official script rebuilds both
queries: literal values are dropped from conditions (recursively into condition subqueries and
set-operation continuations, never inside FROM subqueries), and at the top level and in the
continuations every column id is mapped through the foreign-key map (when its table is in the
query's FROM) and every DISTINCT flag is dropped. Condition subqueries keep their own columns
and DISTINCT; FROM subqueries are compared exactly as parsed. A component matches when its
counts agree (multisets for SELECT/WHERE/GROUP BY, as Spider counts them); the queries match
when every component does and the FROM table units are equal as sorted lists.

Execution match (``evaluation.py --etype exec``): the prediction runs first (an error scores no
match), then the gold; each result becomes ``{select item -> column values in row order}``,
keyed by the rebuilt SELECT item (aggregates are not part of the key, later duplicates
overwrite earlier ones, a ``*`` item is one key holding the first column), and the two maps must
be equal: row order always counts, and an unreadable prediction (empty SELECT) never matches.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlsynth.eval.conventions.spider_parser import AGG_OPS, UNIT_OPS, WHERE_OPS, SpiderSchema

PARTIAL_TYPES = ("select", "select(no AGG)", "where", "where(no OP)", "group(no Having)",
                 "group", "order", "and/or", "IUEN", "keywords")


class OfficialScriptCrash(RuntimeError):
    """The official script raises on this pair (e.g. sorting two FROM subqueries)."""


# ----- rebuilding --------------------------------------------------------------------------
def _drop_values(query: dict[str, Any] | None) -> dict[str, Any] | None:
    if query is None:
        return None

    def cond(condition: list) -> list:
        out = []
        for i, unit in enumerate(condition):
            if i % 2:
                out.append(unit)
                continue
            negated, op, left, v1, v2 = unit
            v1 = _drop_values(v1) if isinstance(v1, dict) else None
            v2 = _drop_values(v2) if isinstance(v2, dict) else None
            out.append((negated, op, left, v1, v2))
        return out

    query["from"]["conds"] = cond(query["from"]["conds"])
    query["having"] = cond(query["having"])
    query["where"] = cond(query["where"])
    for op in ("intersect", "except", "union"):
        query[op] = _drop_values(query[op])
    return query


def _valid_columns(table_units: list, schema: SpiderSchema) -> set[str]:
    prefixes = {tid[:-2] for kind, tid in table_units if kind == "table_unit"}
    return {v for v in schema.id_map.values() if "." in v and v[:v.index(".")] in prefixes}


def _map_columns(query: dict[str, Any] | None, valid: set[str], kmap: dict[str, str]
                 ) -> dict[str, Any] | None:
    if query is None:
        return None

    def col(unit: Any) -> Any:
        if unit is None:
            return None
        agg, cid, _ = unit
        if cid in kmap and cid in valid:
            cid = kmap[cid]
        return agg, cid, None

    def val(unit: Any) -> Any:
        return None if unit is None else (unit[0], col(unit[1]), col(unit[2]))

    def cond(condition: list) -> list:
        return [(u[0], u[1], val(u[2]), u[3], u[4]) if i % 2 == 0 else u
                for i, u in enumerate(condition)]

    query["select"] = (None, [(agg, val(unit)) for agg, unit in query["select"][1]])
    query["from"]["table_units"] = [
        (kind, col(x)) if isinstance(x, tuple) else (kind, x)
        for kind, x in query["from"]["table_units"]]
    query["from"]["conds"] = cond(query["from"]["conds"])
    query["where"] = cond(query["where"])
    query["groupBy"] = [col(u) for u in query["groupBy"]]
    if query["orderBy"]:
        direction, units = query["orderBy"]
        query["orderBy"] = (direction, [val(u) for u in units])
    query["having"] = cond(query["having"])
    for op in ("intersect", "except", "union"):
        query[op] = _map_columns(query[op], valid, kmap)
    return query


def rebuild(query: dict[str, Any], schema: SpiderSchema, kmap: dict[str, str]) -> dict[str, Any]:
    """A rebuilt copy (values dropped, foreign keys mapped, DISTINCT dropped) of ``query``."""
    q = copy.deepcopy(query)
    valid = _valid_columns(q["from"]["table_units"], schema)
    return _map_columns(_drop_values(q), valid, kmap)  # type: ignore[return-value]


# ----- component comparison ----------------------------------------------------------------
def _count_taking(pred_items: list, label_items: list) -> int:
    """How many predicted items find a not-yet-taken equal label item (Spider's loop)."""
    remaining = list(label_items)
    hits = 0
    for item in pred_items:
        if item in remaining:
            hits += 1
            remaining.remove(item)
    return hits


def _score(count: int, pred_total: int, label_total: int) -> int:
    return int(pred_total == label_total and count == pred_total)


def _select(pred: dict, label: dict) -> tuple[int, int, int, int]:
    p, g = pred["select"][1], label["select"][1]
    return (len(g), len(p), _count_taking(p, g),
            _count_taking([u[1] for u in p], [u[1] for u in g]))


def _where(pred: dict, label: dict) -> tuple[int, int, int, int]:
    p, g = pred["where"][::2], label["where"][::2]
    return (len(g), len(p), _count_taking(p, g),
            _count_taking([u[2] for u in p], [u[2] for u in g]))


def _group(pred: dict, label: dict) -> tuple[int, int, int]:
    def names(q: dict) -> list[str]:
        return [c.split(".")[1] if "." in c else c for c in (u[1] for u in q["groupBy"])]

    return len(label["groupBy"]), len(pred["groupBy"]), _count_taking(names(pred), names(label))


def _having(pred: dict, label: dict) -> tuple[int, int, int]:
    pt, lt = int(bool(pred["groupBy"])), int(bool(label["groupBy"]))
    same = (pt == lt == 1 and [u[1] for u in pred["groupBy"]] == [u[1] for u in label["groupBy"]]
            and pred["having"] == label["having"])
    return lt, pt, int(same)


def _order(pred: dict, label: dict) -> tuple[int, int, int]:
    pt, lt = int(bool(pred["orderBy"])), int(bool(label["orderBy"]))
    same = (bool(label["orderBy"]) and pred["orderBy"] == label["orderBy"]
            and (pred["limit"] is None) == (label["limit"] is None))
    return lt, pt, int(same)


def _and_or(pred: dict, label: dict) -> tuple[int, int, int]:
    p, g = set(pred["where"][1::2]), set(label["where"][1::2])
    return (1, 1, 1) if p == g else (len(p), len(g), 0)


def _iuen(pred: dict, label: dict) -> tuple[int, int, int]:
    lt = pt = cnt = 0
    for op in ("intersect", "except", "union"):
        p, g = pred[op], label[op]
        pt += p is not None
        lt += g is not None
        if p is not None and g is not None:
            cnt += int(exact_match_parsed(p, g))
    return lt, pt, cnt


def keywords(q: dict) -> set[str]:
    found: set[str] = set()
    for key, word in (("where", "where"), ("groupBy", "group"), ("having", "having")):
        if q[key]:
            found.add(word)
    if q["orderBy"]:
        found.update((q["orderBy"][0], "order"))
    if q["limit"] is not None:
        found.add("limit")
    found.update(op for op in ("except", "union", "intersect") if q[op] is not None)
    connectors = q["from"]["conds"][1::2] + q["where"][1::2] + q["having"][1::2]
    if "or" in connectors:
        found.add("or")
    units = q["from"]["conds"][::2] + q["where"][::2] + q["having"][::2]
    if any(u[0] for u in units):
        found.add("not")
    if any(u[1] == WHERE_OPS.index("in") for u in units):
        found.add("in")
    if any(u[1] == WHERE_OPS.index("like") for u in units):
        found.add("like")
    return found


def _keywords(pred: dict, label: dict) -> tuple[int, int, int]:
    p, g = keywords(pred), keywords(label)
    return len(g), len(p), len(p & g)


def partial_scores(pred: dict, label: dict) -> dict[str, dict[str, Any]]:
    """Spider's per-component acc/rec/f1 (each 0 or 1) with the two component totals."""
    out: dict[str, dict[str, Any]] = {}

    def put(name: str, label_total: int, pred_total: int, count: int) -> None:
        s = _score(count, pred_total, label_total)
        out[name] = {"acc": s, "rec": s, "f1": s, "label_total": label_total,
                     "pred_total": pred_total}

    lt, pt, cnt, cnt_no_agg = _select(pred, label)
    put("select", lt, pt, cnt)
    put("select(no AGG)", lt, pt, cnt_no_agg)
    lt, pt, cnt, cnt_no_op = _where(pred, label)
    put("where", lt, pt, cnt)
    put("where(no OP)", lt, pt, cnt_no_op)
    put("group(no Having)", *_group(pred, label))
    put("group", *_having(pred, label))
    put("order", *_order(pred, label))
    put("and/or", *_and_or(pred, label))
    put("IUEN", *_iuen(pred, label))
    put("keywords", *_keywords(pred, label))
    return out


def _sorted_units(units: list) -> list:
    try:
        return sorted(units)
    except TypeError as err:  # two FROM subqueries: Python cannot order dicts
        raise OfficialScriptCrash("the official script cannot sort two FROM subqueries") \
            from err


def exact_match_parsed(pred: dict, label: dict) -> bool:
    """``Evaluator.eval_exact_match`` on two rebuilt queries."""
    if any(s["f1"] != 1 for s in partial_scores(pred, label).values()):
        return False
    if label["from"]["table_units"]:
        return _sorted_units(label["from"]["table_units"]) == \
            _sorted_units(pred["from"]["table_units"])
    return True


# ----- execution match ---------------------------------------------------------------------
def _result_map(rows: list[tuple], select: list) -> dict[Any, list]:
    out: dict[Any, list] = {}
    for idx, (_, unit) in enumerate(select):
        key = tuple(unit[1]) if not unit[2] else (unit[0], tuple(unit[1]), tuple(unit[2]))
        try:
            out[key] = [row[idx] for row in rows]
        except IndexError as err:
            raise OfficialScriptCrash("result has fewer columns than the parsed SELECT") from err
    return out


def exec_maps_equal(pred_rows: list[tuple], gold_rows: list[tuple], pred: dict,
                    gold: dict) -> bool:
    """Spider's ``eval_exec_match`` comparison of two results (rebuilt queries)."""
    return _result_map(pred_rows, pred["select"][1]) == _result_map(gold_rows, gold["select"][1])


__all__ = ["AGG_OPS", "PARTIAL_TYPES", "UNIT_OPS", "OfficialScriptCrash", "exact_match_parsed",
           "exec_maps_equal", "keywords", "partial_scores", "rebuild"]
