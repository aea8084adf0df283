"""SQLExecutionFilter's result checks: empty, all-NULL and capped results, one reason each."""

from __future__ import annotations

import pytest

from sqlsynth.operators.base import Reject
from sqlsynth.operators.filter import SQLExecutionFilter

ALL = ("empty", "all_null", "truncated")


def row(sql):
    return {"db_id": "shop", "SQL": sql}


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT name FROM customers WHERE city = 'California'", "empty_result"),
        ("SELECT NULL, NULL FROM customers", "all_null_result"),
        ("SELECT MAX(amount) FROM orders WHERE amount > 1000", "all_null_result"),
    ],
)
async def test_degenerate_results_are_rejected(dbm, ctx, sql, reason):
    out = await SQLExecutionFilter(dbm, reject_results=ALL).aprocess_row(row(sql), ctx)
    assert isinstance(out, Reject) and out.reason == reason
    # only when asked for: the plain filter keeps them unchanged
    assert await SQLExecutionFilter(dbm).aprocess_row(row(sql), ctx) == [row(sql)]


async def test_result_cut_at_the_row_cap_is_rejected(db_root, ctx):
    from sqlsynth.db import DatabaseManager

    capped = DatabaseManager(db_type="sqlite", config={"root_path": str(db_root)}, max_rows=2)
    try:
        op = SQLExecutionFilter(capped, reject_results=["truncated"])
        out = await op.aprocess_row(row("SELECT name FROM customers"), ctx)
        assert out == Reject("truncated_result", "2 rows (1 columns, cut at the row cap)")
        kept = await op.aprocess_row(row("SELECT name FROM customers WHERE city = 'York'"), ctx)
        assert kept[0]["checks_passed"] == ["result_not_degenerate"]
    finally:
        capped.close()


async def test_a_result_with_some_values_is_kept(dbm, ctx):
    sql = "SELECT name, NULL FROM customers"
    out = await SQLExecutionFilter(dbm, reject_results=ALL).aprocess_row(row(sql), ctx)
    assert out == [{**row(sql), "checks_passed": ["result_not_degenerate"]}]


def test_unknown_kind_is_an_error(dbm):
    with pytest.raises(ValueError, match="all_null"):
        SQLExecutionFilter(dbm, reject_results=["nothing"])
    assert SQLExecutionFilter(dbm, drop_empty=True).reject_results == ("empty",)


async def test_results_checked_only_where_the_field_is_set(dbm, ctx):
    # refine: the model's rewrites are checked, the user's own rows are not
    op = SQLExecutionFilter(dbm, reject_results=ALL, results_checked_when="sql_variation_type")
    sql = "SELECT name FROM customers WHERE city = 'California'"
    original = {**row(sql), "sql_variation_type": None}
    assert await op.aprocess_row(original, ctx) == [original]
    out = await op.aprocess_row({**row(sql), "sql_variation_type": "filter"}, ctx)
    assert isinstance(out, Reject) and out.reason == "empty_result"
