from __future__ import annotations

import pytest

from sqlsynth.realize import NotRealizable, canonical_question
from sqlsynth.realize.mentions import missing_mentions
from tests.realize.conftest import shop_schema


def ask(sql: str, schema=None, dialect: str = "sqlite"):
    schema = schema or shop_schema(dialect)
    result = canonical_question(sql, schema, dialect)
    assert missing_mentions(sql, schema, result.question, result.evidence, dialect) == []
    return result


def test_count_with_filters_and_humanized_names():
    q = ask("SELECT COUNT(*) FROM customers WHERE city = 'São Paulo' AND FirstName LIKE 'A%'")
    assert q.question == ("How many customers are there whose city is 'São Paulo' and whose "
                          "first name starts with 'A'?")
    assert q.evidence == ""


def test_aggregates_are_named_and_one_row_reads_singular():
    q = ask('SELECT AVG("Unit Price"), MAX(signup_date) FROM customers')
    assert q.question == ("What are the average unit price and the maximum signup date of the "
                          "customers?")
    assert ask("SELECT COUNT(DISTINCT city) FROM customers").question == (
        "What is the number of different cities of the customers?")


def test_ordering_direction_and_limit_count():
    q = ask("SELECT FirstName FROM customers ORDER BY city DESC, customer_id LIMIT 5")
    assert q.question.endswith("sorted by the city in descending order and then by the customer "
                               "id in ascending order, keeping only the first 5 results?")
    assert "keeping only the first result?" in ask(
        "SELECT city FROM customers ORDER BY city LIMIT 1").question
    assert "keeping only 2 of the results (any 2)" in ask(
        "SELECT city FROM customers LIMIT 2").question


def test_distinct_is_said():
    assert ask("SELECT DISTINCT city FROM customers").question == (
        "What are the different cities of the customers?")
    assert "the different combinations of the cities and the first names" in ask(
        "SELECT DISTINCT city, FirstName FROM customers").question


def test_join_names_the_owner_of_every_output_and_explains_the_key():
    q = ask("SELECT c.FirstName, o.amount FROM orders AS o JOIN customers AS c "
            "ON o.customer_id = c.customer_id WHERE o.amount > 100")
    assert q.question == ("What are the first names of the customers and the amounts of the "
                          "orders for the orders joined with their customers for which the amount "
                          "of the order is greater than 100?")
    assert "Rows are matched where the customer id of the order equals the customer id of the " \
           "customer." in q.evidence
    assert "Amount of the orders: order total in USD." in q.evidence  # the unit, from the comment


def test_group_by_having_and_order_by_an_aggregate_alias():
    q = ask("SELECT city, COUNT(*) AS n FROM customers GROUP BY city HAVING COUNT(*) >= 2 "
            "ORDER BY n DESC")
    assert q.question == ("Among the customers, grouped by the city, what are the city and the "
                          "number of customers of each group, considering only the groups for "
                          "which the number of customers is at least 2, sorted by the number of "
                          "customers in descending order?")


def test_not_in_and_not_exists_are_negated():
    q = ask("SELECT FirstName FROM customers WHERE customer_id NOT IN "
            "(SELECT customer_id FROM orders WHERE status = 'RTN')")
    assert "whose customer id is not among (the customer ids of the orders whose status is " \
           "'RTN')" in q.question
    q = ask("SELECT FirstName FROM customers AS c WHERE NOT EXISTS "
            "(SELECT 1 FROM orders AS o WHERE o.customer_id = c.customer_id AND o.amount > 10)")
    assert ("for which (there is no order whose customer id equals the customer id of this "
            "customer and whose amount is greater than 10)") in q.question


def test_scalar_subquery_and_nested_boolean_are_bracketed():
    q = ask("SELECT order_id FROM orders WHERE amount > (SELECT AVG(amount) FROM orders) "
            "AND (status = 'A' OR status = 'B')")
    assert q.question == ("What are the order ids of the orders for which the amount is greater "
                          "than (the average amount of the orders) and (either the status is 'A' "
                          "or the status is 'B')?")


def test_set_operations_say_their_semantics():
    base = "SELECT city FROM customers WHERE loyalty_tier = 'GLD' {} SELECT city FROM customers"
    assert ask(base.format("INTERSECT")).question.startswith("Which results appear in both")
    assert ask(base.format("EXCEPT")).question.startswith("Which results appear in (the")
    assert "but not in the cities of the customers" in ask(base.format("EXCEPT")).question
    assert "each listed once" in ask(base.format("UNION")).question
    assert "keeping duplicates" in ask(base.format("UNION ALL")).question
    assert "Loyalty tier of the customers: BRZ bronze, GLD gold." in ask(
        base.format("UNION")).evidence


def test_self_join_numbers_the_two_roles():
    q = ask("SELECT e.name, m.name FROM employee AS e JOIN employee AS m "
            "ON e.manager_id = m.employee_id")
    assert q.question == ("What are the names of the first employees and the names of the second "
                          "employees for the first employees joined with their second employees?")
    assert q.evidence == ("Rows are matched where the manager id of the first employee equals the "
                          "employee id of the second employee.")


def test_between_in_list_is_null_and_case():
    q = ask("SELECT customer_id, CASE WHEN city = 'Leeds' THEN 'north' ELSE 'other' END "
            "FROM customers WHERE signup_date BETWEEN '2023-01-01' AND '2023-12-31' "
            "AND city IN ('Leeds', 'York') AND loyalty_tier IS NOT NULL AND FirstName IS NULL")
    assert "(a value that is 'north' when the city is 'Leeds'; and 'other' otherwise)" in q.question
    assert "is between '2023-01-01' and '2023-12-31' (inclusive)" in q.question
    assert "whose city is one of 'Leeds' or 'York'" in q.question
    assert "whose loyalty tier is present and whose first name is missing" in q.question
    assert "The signup date of the customers is a date written as text, year-month-day" in \
        q.evidence


def test_general_like_pattern_is_explained():
    q = ask("SELECT city FROM customers WHERE city NOT LIKE 'L_e%s'")
    assert "whose city does not match the pattern 'L_e%s'" in q.question
    assert "% stands for any run of characters" in q.evidence


@pytest.mark.parametrize("dialect", ["mysql", "postgres"])
def test_quoted_and_reserved_identifiers_in_other_dialects(dialect):
    quote = "`" if dialect == "mysql" else '"'
    sql = (f"SELECT {quote}order{quote}, {quote}Unit Price{quote} FROM orders AS o "
           f"JOIN customers AS c ON o.customer_id = c.customer_id WHERE c.city = 'Leeds'")
    q = ask(sql, dialect=dialect)
    assert "the orders of the orders and the unit prices of the customers" in q.question


def test_value_with_an_apostrophe_is_double_quoted():
    assert 'whose city is "O\'Fallon"' in ask(
        "SELECT customer_id FROM customers WHERE city = 'O''Fallon'").question


@pytest.mark.parametrize("sql, reason", [
    ("SELECT city, ROW_NUMBER() OVER (ORDER BY city) FROM customers", "window function"),
    ("WITH t AS (SELECT city FROM customers) SELECT city FROM t", "WITH"),
    ("SELECT x FROM (SELECT city AS x FROM customers)", "derived table"),
    ("SELECT nope FROM customers", "unknown column"),
    ("SELECT city FROM nowhere", "unknown table"),
    ("SELECT substr(city, 1, 2) FROM customers", "expression"),
    ("SELECT c.city FROM customers AS c RIGHT JOIN orders AS o ON o.customer_id = c.customer_id",
     "RIGHT JOIN"),
    ("DELETE FROM customers", "statement"),
    ("SELECT FROM WHERE", "unparseable"),
])
def test_constructs_without_a_faithful_wording_are_refused(sql, reason):
    with pytest.raises(NotRealizable, match=reason):
        canonical_question(sql, shop_schema())


def test_module_examples_hold():
    import doctest

    from sqlsynth.realize import mentions, question, reasoning

    for module in (question, reasoning, mentions):
        assert doctest.testmod(module).failed == 0, module.__name__
