"""EX/EM reports on a tiny SQLite database built per test."""

import json
import sqlite3

import pytest

from sqlsynth.db import DatabaseManager
from sqlsynth.eval import EvalItem, aevaluate, evaluate, render_report


@pytest.fixture
def db(tmp_path):
    root = tmp_path / "dbs"
    (root / "shop").mkdir(parents=True)
    con = sqlite3.connect(root / "shop" / "shop.sqlite")
    con.executescript(
        """
        CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT, city TEXT);
        CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customer(id),
                             amount REAL);
        INSERT INTO customer VALUES (1, 'Ann', 'Oslo'), (2, 'Bob', 'Rome'), (3, 'Cid', 'Oslo');
        INSERT INTO orders VALUES (1, 1, 10), (2, 1, 30), (3, 2, 5), (4, 3, 30);
        """
    )
    con.commit()
    con.close()
    manager = DatabaseManager(db_type="sqlite", config={"root_path": str(root)}, timeout=5.0)
    yield manager
    manager.close()


def _one(db, gold, pred, etype="all"):
    report = evaluate([EvalItem("shop", gold, pred)], db, etype=etype)
    return report.items[0], report


def test_literal_difference_em_yes_ex_no(db):
    item, _ = _one(db, "SELECT name FROM customer WHERE city = 'Oslo'",
                   "SELECT name FROM customer WHERE city = 'Rome'")
    assert item.exact_match is True
    assert item.exec_match is False


def test_column_order_em_yes_ex_no(db):
    item, _ = _one(db, "SELECT name, city FROM customer", "SELECT city, name FROM customer")
    assert item.exact_match is True  # Spider compares select items as a set
    assert item.exec_match is False  # the result columns differ


def test_distinct_em_yes_ex_no(db):
    item, _ = _one(db, "SELECT DISTINCT city FROM customer", "SELECT city FROM customer")
    assert item.exact_match is True
    assert item.exec_match is False


def test_order_matters_only_when_gold_orders(db):
    item, _ = _one(db, "SELECT name FROM customer", "SELECT name FROM customer ORDER BY name DESC")
    assert item.exec_match is True
    assert item.exact_match is False
    item, _ = _one(db, "SELECT name FROM customer ORDER BY name",
                   "SELECT name FROM customer ORDER BY name DESC")
    assert item.exec_match is False


def test_join_written_differently(db):
    item, _ = _one(
        db,
        "SELECT T1.name FROM customer AS T1 JOIN orders AS T2 ON T1.id = T2.customer_id "
        "WHERE T2.amount > 20",
        "SELECT customer.name FROM orders JOIN customer ON orders.customer_id = customer.id "
        "WHERE orders.amount > 20",
    )
    assert item.exact_match is True
    assert item.exec_match is True
    assert item.hardness == "medium"


def test_group_by_having_and_nested(db):
    gold = ("SELECT name FROM customer WHERE id IN "
            "(SELECT customer_id FROM orders GROUP BY customer_id HAVING count(*) > 1)")
    item, _ = _one(db, gold, "SELECT T1.name FROM customer T1 JOIN orders T2 "
                             "ON T1.id = T2.customer_id GROUP BY T1.id HAVING count(*) > 1")
    assert item.exec_match is True
    assert item.exact_match is False
    assert item.hardness == "hard"


def test_set_operations(db):
    gold = ("SELECT city FROM customer WHERE name = 'Ann' "
            "INTERSECT SELECT city FROM customer WHERE name = 'Cid'")
    item, _ = _one(db, gold, "SELECT city FROM customer WHERE name = 'Ann'")
    assert item.exec_match is True
    assert item.exact_match is False
    item, _ = _one(db, gold, gold.replace("INTERSECT", "EXCEPT"))
    assert item.exec_match is False
    assert item.exact_match is False


def test_errors_are_counted_not_raised(db):
    pairs = [
        EvalItem("shop", "SELECT name FROM customer", "SELECT nope FROM customer"),
        EvalItem("shop", "SELECT name FROM customer", None),
        EvalItem("shop", "SELECT name FROM customer", "DROP TABLE customer"),
        EvalItem("shop", "SELECT missing FROM customer", "SELECT name FROM customer"),
        EvalItem("shop", "SELECT count(*) FROM customer", "SELECT count(*) FROM customer"),
    ]
    report = evaluate(pairs, db)
    total = report.levels["all"]
    assert total.count == 5
    assert total.pred_errors == 3
    assert total.gold_errors == 1
    assert total.exec_correct == 1
    assert report.items[2].pred_status == "forbidden"
    # the forbidden statement was not run
    assert evaluate([pairs[4]], db).levels["all"].exec_correct == 1


def test_results_cut_at_the_row_cap_are_never_a_match(tmp_path):
    """Two answers that agree on their first max_rows rows may still differ."""
    root = tmp_path / "dbs" / "big"
    root.mkdir(parents=True)
    with sqlite3.connect(root / "big.sqlite") as con:
        con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        con.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(1, 21)])
    manager = DatabaseManager(db_type="sqlite", config={"root_path": str(tmp_path / "dbs")},
                              max_rows=5)
    gold = "SELECT id FROM t ORDER BY id"
    report = evaluate([
        EvalItem("big", gold, "SELECT id FROM t WHERE id < 10 ORDER BY id"),  # both cut
        EvalItem("big", "SELECT id FROM t WHERE id <= 5 ORDER BY id", gold),  # only pred cut
        EvalItem("big", "SELECT id FROM t WHERE id <= 5", "SELECT id FROM t WHERE id < 6"),
    ], manager)
    manager.close()
    both, pred_cut, fine = report.items
    assert both.exec_match is False and "truncated" in both.gold_error
    assert pred_cut.exec_match is False and pred_cut.gold_error is None
    assert fine.exec_match is True
    assert report.levels["all"].gold_errors == 1


def test_report_breakdown_and_json(db):
    pairs = [
        EvalItem("shop", "SELECT count(*) FROM customer", "SELECT count(*) FROM customer"),
        EvalItem("shop", "SELECT name, city FROM customer", "SELECT name FROM customer"),
    ]
    report = evaluate(pairs, db)
    assert report.levels["easy"].count == 1 and report.levels["easy"].ex == 1.0
    assert report.levels["medium"].count == 1 and report.levels["medium"].ex == 0.0
    assert report.levels["all"].em == 0.5
    data = json.loads(report.to_json())
    assert data["levels"]["all"]["count"] == 2
    assert len(data["items"]) == 2
    table = render_report(report, partial=True)
    assert [c.header for c in table.columns][1:] == ["easy", "medium", "hard", "extra", "all"]


def test_match_only_needs_no_database():
    report = evaluate([EvalItem("x", "SELECT a FROM t WHERE b = 1", "SELECT a FROM t WHERE b = 2")],
                      None, etype="match")
    assert report.levels["all"].exact_correct == 1
    assert report.items[0].exec_match is None
    with pytest.raises(ValueError):
        evaluate([], None, etype="exec")
    with pytest.raises(ValueError):
        evaluate([], None, etype="bogus")


async def test_async_evaluate(db):
    report = await aevaluate([EvalItem("shop", "SELECT name FROM customer",
                                       "SELECT name FROM customer")], db)
    assert report.levels["all"].exec_correct == 1
