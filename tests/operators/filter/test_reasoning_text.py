"""The reasoning's text must agree with its own final SQL: a labelled list, both ways."""

from __future__ import annotations

import pytest

from sqlsynth.operators.filter.reasoning_text import reasoning_problem

SQL = "SELECT COUNT(*) FROM order_items AS oi JOIN orders o ON o.id = oi.order_id " \
      "WHERE o.status = 'SHP' AND oi.quantity > 2"


def cot(text: str, sql: str = SQL) -> str:
    return f"{text}\n```sql\n{sql}\n```"


AGREES = [
    "Join order items to orders, keep status 'SHP' and quantities above 2, then count.",
    "The order_items table holds quantity; orders holds the status (SHP means shipped).",
    "We need orders and the order item rows; filter o.status = \"SHP\" and count them.",
]
CONTRADICTS = [
    "Count the orders whose status is SHP.",  # never names order_items
    "Join order items to orders and count all of them.",  # never names the value
    "Join order items to orders, keep status 'DLV' (or 'SHP'), count.",  # quotes another value
]


@pytest.mark.parametrize("text", AGREES)
def test_reasoning_that_names_what_its_sql_uses_passes(text):
    assert reasoning_problem(cot(text)) is None


@pytest.mark.parametrize("text", CONTRADICTS)
def test_reasoning_that_contradicts_its_sql_fails(text):
    assert reasoning_problem(cot(text))


def test_no_sql_is_left_to_other_checks():
    assert reasoning_problem("Just words.") is None


def test_a_cte_name_need_not_be_named():
    sql = "WITH t AS (SELECT city FROM customers) SELECT COUNT(*) FROM t"
    assert reasoning_problem(cot("Count the customers' cities.", sql)) is None
