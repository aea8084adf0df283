from __future__ import annotations

import pytest

from sqlsynth.db.tables_json import load_tables_json
from sqlsynth.realize import NotRealizable, canonical_reasoning
from sqlsynth.sql import extract_sql
from tests.realize.conftest import SPIDER, shop_schema, spider_rows


def test_steps_in_order_then_the_query():
    sql = ("SELECT c.city, COUNT(*) FROM customers AS c LEFT JOIN orders AS o "
           "ON o.customer_id = c.customer_id WHERE o.status IN ('A', 'B') GROUP BY c.city "
           "HAVING COUNT(*) > 2 ORDER BY 2 DESC LIMIT 3")
    text = canonical_reasoning(sql, shop_schema())
    assert text.splitlines()[:7] == [
        "1. The data comes from the table customers (as c).",
        ("2. Add the table orders (as o) with LEFT JOIN on o.customer_id = c.customer_id (rows "
         "without a match are kept, with missing values)."),
        "3. Keep only the rows where o.status IN ('A', 'B') (the values 'A', 'B' as stored).",
        "4. Group the rows by c.city.",
        "5. Keep only the groups where COUNT(*) > 2 (the value 2 as stored).",
        "6. Return c.city, COUNT(*).",
        "7. Sort by 2 descending.",
    ]
    assert extract_sql(text) == sql


def test_set_operation_parts_and_dialect():
    sql = "SELECT `order` FROM orders EXCEPT SELECT customer_id FROM customers"
    text = canonical_reasoning(sql, shop_schema("mysql"), "mysql")
    assert "1. For the first part: The data comes from the table orders." in text
    assert "Return `order`." in text
    assert "EXCEPT: rows of the first part that the second part does not return" in text
    assert extract_sql(text) == sql


def test_unparseable_sql_is_refused():
    with pytest.raises(NotRealizable, match="unparseable"):
        canonical_reasoning("SELEC 1 FROM", shop_schema())


def test_every_spider_dev_query_gets_reasoning_that_ends_in_it():
    pairs = spider_rows()
    schemas = load_tables_json(SPIDER / "tables.json")
    for sql, db_id in pairs:
        text = canonical_reasoning(sql, schemas[db_id])
        assert extract_sql(text) == sql.strip().rstrip(";").rstrip(), sql
        assert "1. " in text and "Return " in text
