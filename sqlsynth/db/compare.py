"""Execution-result equality, used for execution accuracy and for grouping votes.

Semantics of `results_match(gold, pred, ordered=...)`:

* Only two complete OK results can match; any failure status matches nothing, and neither does
  a result cut at the row cap (`truncated`): the first rows of two different answers may agree,
  so equality cannot be decided (raise `max_rows` to compare bigger answers).
* Columns are matched by position; names and aliases are ignored, but the column counts
  must be equal.
* Rows are compared as multisets (duplicates count) unless `ordered`, in which case the
  sequences must be equal. Use `ordered=query_orders_output(gold_sql, dialect)`.
* Values are normalised before comparing:
  - NULL equals NULL;
  - numbers compare numerically across int/float/Decimal/bool (1 == 1.0 == Decimal('1.0'),
    True == 1); non-integral numbers are rounded to 6 significant digits, i.e. a relative
    tolerance of about 1e-6;
  - bytes are decoded as UTF-8 when possible (so b'abc' == 'abc'), otherwise compared raw;
  - dates/times compare by their ISO text, so a datetime equals the string SQLite stores;
  - strings compare exactly (case and whitespace matter).

`result_signature(res, ordered=...)` gives a hashable key with `sig(a) == sig(b)` exactly
when `results_match(a, b)`; it is None for failed and truncated results, which vote for nothing.
`comparable(res)` says whether a result can take part in a comparison at all.
"""

from __future__ import annotations

import datetime as _dt
import math
import weakref
from collections import Counter
from collections.abc import Hashable
from decimal import Decimal, InvalidOperation

from sqlsynth.db.result import ExecResult
from sqlsynth.sql.memo import memo_by_text

SIGNIFICANT_DIGITS = 6


def normalize_value(value: object) -> Hashable:
    """A canonical, hashable form of one cell (see the module docstring)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, (float, Decimal)):
        return _normalize_number(value)
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return ("bytes", bytes(value))
    if isinstance(value, _dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return _normalize_number(value.total_seconds())
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return tuple(normalize_value(v) for v in value)
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return str(value)


def _normalize_number(value: float | Decimal) -> Hashable:
    try:
        if isinstance(value, Decimal):
            if not value.is_finite():
                return str(value).lower()
            if value == value.to_integral_value():
                return int(value)
            value = float(value)
    except (InvalidOperation, OverflowError):
        return str(value)
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value.is_integer():
        return int(value)
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def _rows(res: ExecResult) -> list[tuple]:
    return [tuple(normalize_value(v) for v in row) for row in res.rows]


def _width(res: ExecResult) -> int:
    if res.columns:
        return len(res.columns)
    return len(res.rows[0]) if res.rows else 0


def comparable(res: ExecResult) -> bool:
    """An OK result holding all its rows: the only kind whose equality can be decided."""
    return res.ok and not res.truncated


def results_match(gold: ExecResult, pred: ExecResult, *, ordered: bool) -> bool:
    """Whether two execution results are the same answer (see the module docstring)."""
    if not (comparable(gold) and comparable(pred)):
        return False
    if _width(gold) != _width(pred) or len(gold.rows) != len(pred.rows):
        return False
    if ordered:
        return _rows(gold) == _rows(pred)
    return Counter(_rows(gold)) == Counter(_rows(pred))


#: signatures already computed, per result object: the database manager hands back the same
#: cached result for the same statement, and a row's candidates repeat statements (weak keys:
#: a result the manager has evicted takes its signatures with it)
_SIGNATURES: weakref.WeakKeyDictionary[ExecResult, dict[bool, Hashable]] = \
    weakref.WeakKeyDictionary()


def result_signature(res: ExecResult, *, ordered: bool) -> Hashable:
    """Hashable key consistent with `results_match`; None for failed or truncated results."""
    if not comparable(res):
        return None
    try:
        known = _SIGNATURES.setdefault(res, {})
    except TypeError:  # a cell that cannot be hashed: computed every time
        return _signature(res, ordered)
    if ordered not in known:
        known[ordered] = _signature(res, ordered)
    return known[ordered]


def _signature(res: ExecResult, ordered: bool) -> Hashable:
    rows = _rows(res)
    if ordered:
        return (_width(res), True, tuple(rows))
    counted = sorted(Counter(rows).items(), key=repr)
    return (_width(res), False, tuple(counted))


@memo_by_text()
def query_orders_output(sql: str, dialect: str) -> bool:
    """True when the top-level query has ORDER BY (its row order is part of the answer)."""
    from sqlglot import exp

    from sqlsynth.sql.parse import SQLParseError, parse_single

    try:  # size and depth limits first: model-written SQL never raises out of here
        root = parse_single(sql, dialect)
    except SQLParseError:
        return False
    while isinstance(root, exp.Subquery) and not root.args.get("order"):
        root = root.this
    return root is not None and bool(root.args.get("order"))
