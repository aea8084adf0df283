"""results_match / result_signature semantics (documented in sqlsynth.db.compare)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from sqlsynth.db import (
    ExecResult,
    ExecStatus,
    comparable,
    query_orders_output,
    result_signature,
    results_match,
)


def ok(*rows, columns=None):
    width = len(rows[0]) if rows else 1
    return ExecResult(
        ExecStatus.OK, columns=columns or tuple(f"c{i}" for i in range(width)), rows=tuple(rows)
    )


def both(a, b, ordered):
    same = results_match(a, b, ordered=ordered)
    assert same == (result_signature(a, ordered=ordered) == result_signature(b, ordered=ordered))
    return same


def test_multiset_unless_ordered():
    a, b = ok((1,), (2,), (2,)), ok((2,), (1,), (2,))
    assert both(a, b, ordered=False)
    assert not both(a, b, ordered=True)
    assert not both(a, ok((1,), (2,)), ordered=False)  # duplicates count


def test_columns_by_position_not_name():
    assert both(ok((1, "x"), columns=("id", "n")), ok((1, "x"), columns=("a", "b")), False)
    assert not both(ok((1, "x")), ok(("x", 1)), ordered=True)
    assert not both(ok((1,)), ok((1, None)), ordered=False)


@pytest.mark.parametrize(
    ("x", "y"),
    [
        (1, 1.0),
        (1, Decimal("1.0")),
        (True, 1),
        (0.1 + 0.2, 0.3),
        (Decimal("2.3333333333"), 2.333333333333),
        (None, None),
        (b"abc", "abc"),
        (dt.date(2020, 1, 2), "2020-01-02"),
        (dt.datetime(2020, 1, 2, 3, 4, 5), "2020-01-02 03:04:05"),
    ],
)
def test_equal_values(x, y):
    assert both(ok((x,)), ok((y,)), ordered=False)


@pytest.mark.parametrize(
    ("x", "y"), [(1, 2), (1.0, 1.01), ("a", "A"), (None, 0), ("1", 1), ("a ", "a")]
)
def test_different_values(x, y):
    assert not both(ok((x,)), ok((y,)), ordered=False)


def test_failures_match_nothing():
    err = ExecResult(ExecStatus.RUNTIME_ERROR, error="no such column")
    assert not results_match(err, err, ordered=False)
    assert result_signature(err, ordered=False) is None
    assert both(ok(), ok(), ordered=False)


def test_query_orders_output():
    assert query_orders_output("SELECT a FROM t ORDER BY a", "sqlite")
    assert query_orders_output("SELECT a FROM t UNION SELECT b FROM u ORDER BY 1", "sqlite")
    assert not query_orders_output("SELECT a FROM (SELECT a FROM t ORDER BY a) s", "sqlite")
    assert not query_orders_output(
        "SELECT a FROM t WHERE b IN (SELECT b FROM u ORDER BY b)", "postgres"
    )
    assert not query_orders_output("not sql at all (", "mysql")


def test_truncated_results_match_nothing():
    """The first rows of two different answers may agree: a cut result cannot be compared."""
    full = ok((1,), (2,))
    cut = ExecResult(ExecStatus.OK, columns=("c0",), rows=((1,), (2,)), truncated=True)
    assert comparable(full) and not comparable(cut)
    assert not results_match(full, cut, ordered=False)
    assert not results_match(cut, cut, ordered=True)
    assert result_signature(cut, ordered=False) is None


def test_query_orders_output_never_raises_on_hostile_sql() -> None:
    """Deep or huge model-written SQL is "not ordered", never a RecursionError."""
    from sqlsynth.db.compare import query_orders_output

    deep = "SELECT " + "(" * 5000 + "1" + ")" * 5000
    nested = "SELECT * FROM " + "(SELECT * FROM " * 300 + "t" + ") AS x" * 300
    for sql in (deep, nested, "SELECT " + " + ".join(["1"] * 300_000), "SELECT 1; SELECT 2"):
        assert query_orders_output(sql, "sqlite") is False
    assert query_orders_output("SELECT a FROM t ORDER BY a", "sqlite") is True
