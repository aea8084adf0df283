"""The statement guard: one read-only query, sent to the engine as the guard's own rendering.

Three groups: the attack corpus (every ``refused`` entry refused on each listed dialect),
legitimate Spider/BIRD-style queries (allowed, and their rendering returns the same rows as the
original on the bundled SQLite databases), and the limits (huge and deep input refused in
milliseconds, nothing ever raises).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlglot

from sqlsynth.db import DatabaseManager, canonical_sql
from sqlsynth.db import guard as guard_module
from sqlsynth.db.guard import check_read_only, stored_form
from sqlsynth.db.result import ExecStatus
from sqlsynth.examples import example_db_root

CORPUS = Path(__file__).resolve().parents[2] / "sqlsynth/testing/hostile_corpus/lexical.jsonl"
DIALECTS = ("sqlite", "mysql", "postgres")
EVIL = "/tmp/sqlsynth-guard-test/evil.out"
REFUSALS = {ExecStatus.FORBIDDEN, ExecStatus.SYNTAX_ERROR, ExecStatus.TOO_LARGE}


def _corpus() -> list[dict]:
    with CORPUS.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _corpus_cases(expect: str) -> list:
    return [
        pytest.param(entry, dialect, id=f"{dialect}-{entry['name']}")
        for entry in _corpus()
        if entry["expect"] == expect
        for dialect in entry["dialects"]
    ]


# -- the corpus -------------------------------------------------------------------------------
def test_corpus_file_is_well_formed():
    entries = _corpus()
    names = Counter(e["name"] for e in entries)
    assert not [n for n, c in names.items() if c > 1]
    for e in entries:
        assert set(e) == {"name", "dialects", "sql", "expect", "why"}, e
        assert e["dialects"] and set(e["dialects"]) <= set(DIALECTS), e
        assert e["expect"] in ("refused", "limited", "any"), e
        assert isinstance(e["sql"], str) and e["sql"] and e["why"], e
    assert sum(e["expect"] == "refused" for e in entries) >= 250


@pytest.mark.parametrize(("entry", "dialect"), _corpus_cases("refused"))
def test_corpus_attack_is_refused(entry, dialect):
    sql = entry["sql"].replace("{evil}", EVIL)
    decision = check_read_only(sql, dialect)
    assert not decision.allowed, (entry["name"], decision.sql)
    assert decision.status in REFUSALS
    assert decision.reason


@pytest.mark.parametrize(("entry", "dialect"), _corpus_cases("limited"))
def test_corpus_limited_entry_never_raises(entry, dialect):
    """Huge and deep text is stopped by the guard's limits; runaway queries pass the guard
    and are left to the engine's time and size limits."""
    decision = check_read_only(entry["sql"].replace("{evil}", EVIL), dialect)
    if entry["name"].startswith(("deep-", "long-")):
        assert decision.status is ExecStatus.TOO_LARGE, decision.reason
    else:
        assert decision.allowed or decision.status in REFUSALS


@pytest.mark.parametrize(("entry", "dialect"), _corpus_cases("any"))
def test_corpus_harmless_entry_renders_to_a_fixpoint(entry, dialect):
    decision = check_read_only(entry["sql"].replace("{evil}", EVIL), dialect)
    if decision.allowed:
        again = check_read_only(decision.sql, dialect)
        assert again.allowed and again.sql == decision.sql


# -- legitimate queries -------------------------------------------------------------------------
# (db_id, sql): joins, CTEs, windows, CASE, string and date functions, LIKE with an escape,
# set operations, quoted identifiers with spaces and Unicode.
LEGIT_SQLITE = [
    ("retail_orders", "SELECT count(*) FROM orders"),
    ("retail_orders", ("select c.first_name, c.last_name, count(o.order_id) as n from customers c "
     "join orders o on o.customer_id = c.customer_id group by c.customer_id "
     "order by n desc, c.customer_id limit 5")),
    ("retail_orders", ("SELECT T1.product_name, T2.category_name FROM products AS T1 JOIN "
     "categories AS T2 ON T1.category_id = T2.category_id WHERE T1.list_price > 50 "
     "ORDER BY T1.product_id")),
    ("retail_orders", ("SELECT channel, sum(shipping_fee) FROM orders GROUP BY channel "
     "HAVING count(*) > 10 ORDER BY 2 DESC")),
    ("retail_orders", ("WITH totals AS (SELECT order_id, sum(quantity * unit_price * "
     "(100 - discount_pct) / 100.0) AS amount FROM order_items GROUP BY order_id) "
     "SELECT round(avg(amount), 2), max(amount) FROM totals")),
    ("retail_orders", ("SELECT order_id, customer_id, row_number() OVER (PARTITION BY "
     "customer_id ORDER BY order_date, order_id) AS k FROM orders ORDER BY order_id LIMIT 20")),
    ("retail_orders", ("SELECT customer_id, rank() OVER (ORDER BY count(*) DESC) FROM orders "
     "GROUP BY customer_id ORDER BY 2, 1 LIMIT 10")),
    ("retail_orders", ("SELECT order_id, lag(order_date) OVER (ORDER BY order_id), "
     "lead(order_date, 2) OVER (ORDER BY order_id) FROM orders ORDER BY order_id LIMIT 10")),
    ("retail_orders", ("SELECT CASE WHEN list_price < 10 THEN 'cheap' WHEN list_price < 100 "
     "THEN 'mid' ELSE 'dear' END AS band, count(*) FROM products GROUP BY band ORDER BY band")),
    ("retail_orders", ("SELECT upper(substr(first_name, 1, 3)), lower(last_name), "
     "length(email), trim(city), replace(email, '@', ' at ') FROM customers "
     "ORDER BY customer_id LIMIT 10")),
    ("retail_orders", ("SELECT first_name || ' ' || last_name FROM customers WHERE "
     "instr(email, 'example') > 0 ORDER BY customer_id LIMIT 5")),
    ("retail_orders", ("SELECT strftime('%Y', order_date) AS y, count(*) FROM orders "
     "GROUP BY y ORDER BY y")),
    ("retail_orders", ("SELECT date(order_date, '+7 days'), julianday(order_date) - "
     "julianday('2023-01-01') FROM orders ORDER BY order_id LIMIT 5")),
    ("retail_orders", ("SELECT count(*) FROM orders WHERE order_date BETWEEN '2023-01-01' AND "
     "'2023-06-30' AND store_id IS NULL")),
    ("retail_orders", ("SELECT ifnull(store_id, -1), coalesce(store_id, 0), nullif(channel, "
     "'WEB') FROM orders ORDER BY order_id LIMIT 10")),
    ("retail_orders", ("SELECT email FROM customers WHERE first_name || '_' || last_name "
     "LIKE '%!_J%' ESCAPE '!' ORDER BY 1")),
    ("retail_orders", ("SELECT first_name FROM customers WHERE last_name LIKE 'J%' AND "
     "first_name NOT LIKE '%a%' ORDER BY customer_id")),
    ("retail_orders", ("SELECT customer_id FROM customers WHERE customer_id IN (SELECT "
     "customer_id FROM orders WHERE channel = 'APP') AND NOT EXISTS (SELECT 1 FROM orders o "
     "WHERE o.customer_id = customers.customer_id AND o.channel = 'STORE') ORDER BY 1")),
    ("retail_orders", ("SELECT city FROM customers WHERE city IS NOT NULL UNION SELECT city "
     "FROM stores ORDER BY 1")),
    ("retail_orders", ("SELECT customer_id FROM orders WHERE channel = 'WEB' INTERSECT "
     "SELECT customer_id FROM orders WHERE channel = 'APP' EXCEPT SELECT 1 ORDER BY 1")),
    ("retail_orders", "SELECT DISTINCT brand FROM products ORDER BY brand LIMIT 5 OFFSET 2"),
    ("retail_orders", ("SELECT avg(list_price), min(list_price), total(list_price), "
     "group_concat(DISTINCT brand) FROM products WHERE category_id = 1")),
    ("retail_orders", ("SELECT cast(list_price AS INTEGER), abs(-list_price), "
     "typeof(list_price), printf('%.2f', list_price) FROM products ORDER BY product_id "
     "LIMIT 5")),
    ("retail_orders", ('SELECT name AS "full name", n AS "件数" FROM (SELECT first_name AS '
     'name, count(*) AS n FROM customers GROUP BY first_name) AS "sub query" '
     'ORDER BY "件数" DESC, "full name" LIMIT 5')),
    ("retail_orders", ("SELECT s.store_name, r.region_name FROM stores s LEFT JOIN regions r "
     "ON r.region_id = s.region_id ORDER BY s.store_id")),
    ("retail_orders", ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
     "WHERE x < 10) SELECT sum(x) FROM c")),
    ("retail_orders", ("SELECT o.order_id FROM orders o, order_items i WHERE o.order_id = "
     "i.order_id AND i.quantity >= 3 GROUP BY o.order_id ORDER BY o.order_id LIMIT 10")),
    ("retail_orders", ("SELECT iif(discontinued = 1, 'gone', 'sold'), count(*) FROM products "
     "GROUP BY 1 ORDER BY 1")),
    ("retail_orders", "SELECT count(*) FILTER (WHERE channel = 'WEB') FROM orders"),
    ("retail_orders", "SELECT 'it''s', X'41', -1.5e3, 0.25, NULL IS NULL"),
    ("hospital_admissions", ("SELECT w.ward_name, count(a.admission_id) FROM wards w JOIN "
     "admissions a ON a.ward_id = w.ward_id WHERE a.discharge_date IS NULL GROUP BY "
     "w.ward_name ORDER BY 2 DESC, 1")),
    ("hospital_admissions", ("SELECT d.specialty, avg(julianday(a.discharge_date) - "
     "julianday(a.admit_date)) AS los FROM admissions a JOIN doctors d ON d.doctor_id = "
     "a.attending_doctor_id GROUP BY d.specialty ORDER BY los DESC, 1")),
    ("hospital_admissions", ("SELECT p.first_name, p.last_name FROM patients p WHERE "
     "p.patient_id IN (SELECT a.patient_id FROM admissions a JOIN diagnoses g ON "
     "g.admission_id = a.admission_id JOIN icd_codes c ON c.icd_code = g.icd_code WHERE "
     "c.is_chronic = 'Y') ORDER BY p.patient_id LIMIT 10")),
    ("hospital_admissions", ("SELECT CAST(strftime('%Y', 'now') AS INTEGER) - "
     "CAST(substr(birth_date, 1, 4) AS INTEGER) AS age FROM patients ORDER BY patient_id "
     "LIMIT 5")),
    ("hospital_admissions", ("SELECT admission_type, sum(total_charges) * 1.0 / count(*) FROM "
     "admissions GROUP BY admission_type ORDER BY 1")),
    ("regional_economy", ("SELECT r.region_name, sum(f.revenue_m) FROM companies c JOIN "
     "regions r ON r.region_code = c.region_code JOIN company_financials f ON f.company_id "
     "= c.company_id WHERE f.fiscal_year = (SELECT max(fiscal_year) FROM company_financials) "
     "GROUP BY r.region_name ORDER BY 2 DESC, 1")),
    ("regional_economy", ("SELECT region_code, reportperiod, value, avg(value) OVER (PARTITION "
     "BY region_code ORDER BY reportperiod ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM "
     "quarterly_reports WHERE roworder = 1 ORDER BY region_code, reportperiod LIMIT 20")),
    ("regional_economy", ("SELECT sector_name FROM sectors WHERE sector_code IN (SELECT "
     "sector_code FROM companies WHERE is_listed = 1) ORDER BY 1")),
    ("regional_economy", ("SELECT company_name FROM companies WHERE company_name LIKE '%GmbH%' "
     "OR legal_form IN ('SA', 'S.p.A.') ORDER BY company_id")),
]

# Allowed on the server dialects (not executed here).
LEGIT_SERVER = [
    ("mysql", "SELECT DATE_FORMAT(order_date, '%Y-%m'), COUNT(*) FROM orders GROUP BY 1"),
    ("mysql", "SELECT IF(a > 1, 'x', 'y'), IFNULL(b, 0), CONCAT(c, '-', d) FROM t"),
    ("mysql", "SELECT `order id`, `名前` FROM `my table` WHERE name = \"Bob\""),
    ("mysql", "SELECT DATEDIFF(a, b), YEAR(d), MONTH(d), STR_TO_DATE(s, '%Y') FROM t"),
    ("mysql", "SELECT GROUP_CONCAT(DISTINCT name ORDER BY name SEPARATOR ', ') FROM t"),
    ("mysql", "SELECT name FROM t WHERE name LIKE '%!%%' ESCAPE '!' LIMIT 3, 5"),
    ("mysql", "SELECT @@session.autocommit"),
    ("postgres", "SELECT EXTRACT(YEAR FROM d), d::date, CAST(x AS TEXT) FROM t"),
    ("postgres", "SELECT string_agg(name, ', ' ORDER BY name), array_agg(id) FROM t"),
    ("postgres", "SELECT date_trunc('month', d), to_char(d, 'YYYY-MM'), now() - d FROM t"),
    ("postgres", "SELECT * FROM generate_series(1, 3) AS g(x)"),
    ("postgres", 'SELECT "Order Id", "名前" FROM "My Table" WHERE name ILIKE \'%bob%\''),
    ("postgres", "SELECT a FROM t ORDER BY a NULLS LAST LIMIT 3 OFFSET 1"),
    ("postgres", ("SELECT coalesce(a, 0), greatest(a, b), least(a, b), split_part(s, ',', 1) "
     "FROM t")),
    ("postgres", "SELECT current_setting('default_transaction_read_only')"),
]


def _sqlite_path(db_id: str) -> Path:
    return example_db_root() / db_id / f"{db_id}.sqlite"


def _rows(db_id: str, sql: str) -> list:
    conn = sqlite3.connect(_sqlite_path(db_id).as_uri() + "?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize(("db_id", "sql"), LEGIT_SQLITE, ids=[s[:50] for _, s in LEGIT_SQLITE])
def test_legitimate_query_is_allowed_and_its_rendering_returns_the_same_rows(db_id, sql):
    decision = check_read_only(sql, "sqlite")
    assert decision.allowed, decision.reason
    original, rendered = _rows(db_id, sql), _rows(db_id, decision.sql)
    assert original, "the example query should return rows"
    if "ORDER BY" in sql.upper():
        assert rendered == original
    else:
        assert Counter(rendered) == Counter(original)
    assert check_read_only(decision.sql, "sqlite").sql == decision.sql  # a fixpoint


@pytest.mark.parametrize(("db_id", "sql"), LEGIT_SQLITE, ids=[s[:50] for _, s in LEGIT_SQLITE])
@pytest.mark.parametrize("dialect", ["mysql", "postgres"])
def test_legitimate_sqlite_style_queries_pass_on_server_dialects_too(db_id, sql, dialect):
    if any(f in sql.lower() for f in ("julianday", "strftime", "iif(", "total(", "printf",
                                       "typeof", "instr", "date(order_date", "x'41'")):
        pytest.skip("SQLite-only function or literal")
    if dialect == "postgres" and "ifnull(" in sql.lower():
        pytest.skip("PostgreSQL has no ifnull (refused, not translated: test_faithful.py)")
    decision = check_read_only(sql, dialect)
    assert decision.allowed, decision.reason


@pytest.mark.parametrize(("dialect", "sql"), LEGIT_SERVER)
def test_legitimate_server_query_is_allowed(dialect, sql):
    decision = check_read_only(sql, dialect)
    assert decision.allowed, decision.reason
    assert check_read_only(decision.sql, dialect).sql == decision.sql


def test_quoted_identifiers_with_spaces_reserved_words_and_unicode(tmp_path):
    path = tmp_path / "awkward.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(
        'CREATE TABLE "order details" ("order id" INTEGER, "group" TEXT, "Ünïcode 名" REAL);'
        "INSERT INTO \"order details\" VALUES (1, 'a', 1.5), (2, 'b', 2.5), (3, 'a', 4.0);"
    )
    conn.close()
    sql = (
        'SELECT "group", sum("Ünïcode 名") AS "total 合計" FROM "order details" '
        'WHERE "order id" > 1 OR "group" = \'b\' GROUP BY "group" ORDER BY "group"'
    )
    decision = check_read_only(sql, "sqlite")
    assert decision.allowed, decision.reason
    conn = sqlite3.connect(path)
    try:
        assert conn.execute(decision.sql).fetchall() == conn.execute(sql).fetchall()
        assert conn.execute(decision.sql).fetchall() == [("a", 4.0), ("b", 2.5)]
    finally:
        conn.close()


# -- what the engine receives ---------------------------------------------------------------
def test_the_decision_sql_is_the_rendering_without_comments():
    decision = check_read_only("select a /* x */ from t -- trailing\n ;;", "sqlite")
    assert decision.allowed
    assert decision.sql == "SELECT a FROM t"


def test_a_rendering_that_does_not_parse_back_to_the_same_tree_is_refused(monkeypatch):
    real = guard_module._render

    def drifting(tree, dialect):  # each rendering adds a term: never a fixpoint
        text, called = real(tree, dialect)
        return text + " + 0", called

    monkeypatch.setattr(guard_module, "_render", drifting)
    decision = check_read_only("SELECT 1", "sqlite")
    assert decision.status is ExecStatus.FORBIDDEN
    assert "parse back" in decision.reason


def test_the_worker_executes_the_guards_rendering(monkeypatch):
    """What reaches the engine is the guard's rendering, comments dropped (the worker process
    runs the guard and the statement; here its request handler runs in this process)."""
    from sqlsynth.db.worker import Request, _Sessions, handle

    manager = DatabaseManager("sqlite", {"root_path": str(example_db_root())}, sample_values=0)
    engine = manager.engine
    sent: list[str] = []
    real_run = engine.run

    def spy(conn, sql, limits, *, explain=False):
        sent.append(sql)
        return real_run(conn, sql, limits, explain=explain)

    monkeypatch.setattr(engine, "run", spy)
    sessions = _Sessions(engine)
    try:
        for sql, explain in (("select count(*) -- how many\n from orders ;", False),
                             ("select 1 /* c */", True)):
            reply, after = handle(engine, sessions, Request(
                op="run", db_id="retail_orders", sql=sql, timeout=10.0, max_rows=10,
                max_bytes=2**20, explain=explain))
            after()
            assert reply.result.ok, reply.result.error
    finally:
        sessions.close_all()
        manager.close()
    assert sent == ["SELECT COUNT(*) FROM orders", "SELECT 1"]
    # and through the manager, the same statement runs and returns the rows
    with DatabaseManager("sqlite", {"root_path": str(example_db_root())}, sample_values=0) as m:
        res = m.execute("retail_orders", "select count(*) -- how many\n from orders ;")
        assert res.ok and res.rows[0][0] > 0


@pytest.mark.parametrize(
    "sql",
    [
        "(ANALYSE) SELECT 1",
        "(ANALYZE) SELECT 1",
        "(ANALYZE, BUFFERS) SELECT name FROM singer",
        "ANALYZE SELECT 1",
        "EXPLAIN ANALYZE SELECT 1",
        "EXPLAIN (ANALYZE) SELECT 1",
        "EXPLAIN SELECT 1",
        "(ANALYSE) (SELECT 1)",
        "VERBOSE SELECT 1",
    ],
)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_explain_wrappers_are_refused(sql, dialect):
    assert not check_read_only(sql, dialect).allowed


@pytest.mark.parametrize("dialect", DIALECTS)
def test_what_goes_to_explain_is_a_plain_query(dialect):
    allowed = [
        check_read_only(e["sql"], dialect)
        for e in _corpus()
        if e["expect"] == "any" and dialect in e["dialects"]
    ]
    allowed = [d for d in allowed if d.allowed]
    assert allowed
    for decision in allowed:
        head = decision.sql.lstrip("(").lstrip().upper()
        assert head.startswith(("SELECT", "WITH")), decision.sql


# -- functions --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("dialect", "sql", "name"),
    [
        ("sqlite", "SELECT my_udf(1)", "my_udf"),
        ("mysql", "SELECT SLEEP(1)", "sleep"),
        ("mysql", "SELECT BENCHMARK(10, MD5('a'))", "benchmark"),
        ("mysql", "SELECT evil_proc_fn(name) FROM t", "evil_proc_fn"),
        ("postgres", "SELECT pg_sleep(1)", "pg_sleep"),
        ("postgres", "SELECT * FROM my_set_returning_udf()", "my_set_returning_udf"),
        ("postgres", "SELECT public.lower(name) FROM t", "lower"),
        ("postgres", "SELECT pg_catalog.pg_read_file('/etc/passwd')", "pg_read_file"),
    ],
)
def test_functions_outside_the_allowlist_are_forbidden_by_name(dialect, sql, name):
    decision = check_read_only(sql, dialect)
    assert decision.status is ExecStatus.FORBIDDEN
    assert name in decision.reason


def test_a_user_can_allow_named_functions():
    assert not check_read_only("SELECT pg_sleep(0.1)", "postgres").allowed
    decision = check_read_only("SELECT pg_sleep(0.1)", "postgres", allowed_functions=["PG_SLEEP"])
    assert decision.allowed
    mine = ("my_udf",)
    assert check_read_only("SELECT my_udf(1)", "sqlite", allowed_functions=mine).allowed
    # allowing one name allows nothing else, and never a qualified or quoted spelling
    assert not check_read_only("SELECT other(1)", "sqlite", allowed_functions=mine).allowed
    assert not check_read_only('SELECT "my_udf"(1)', "sqlite", allowed_functions=mine).allowed
    assert not check_read_only("SELECT s.my_udf(1)", "sqlite", allowed_functions=mine).allowed


def test_manager_and_config_pass_allowed_functions(tmp_path):
    from sqlsynth.config import RunConfig
    from sqlsynth.factory import make_database_manager

    manager = DatabaseManager("sqlite", {"root_path": str(example_db_root())},
                              allowed_functions=["likely_udf"])
    try:
        assert manager.guard("SELECT likely_udf(1)").allowed
        assert not manager.guard("SELECT other_udf(1)").allowed
    finally:
        manager.close()
    with pytest.raises(TypeError):
        DatabaseManager("sqlite", {"root_path": str(example_db_root())}, allowed_functions="x")

    toml = tmp_path / "sqlsynth.toml"
    toml.write_text('allowed_functions = ["my_udf"]\n', encoding="utf-8")
    cfg = RunConfig.load(toml)
    assert cfg.allowed_functions == ["my_udf"]
    assert 'allowed_functions = ["my_udf"]' in cfg.to_toml()
    manager = make_database_manager(cfg)
    try:
        assert manager.allowed_functions == ("my_udf",)
        assert manager.guard("SELECT my_udf(1)").allowed
    finally:
        manager.close()
    toml.write_text('allowed_functions = "my_udf"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="allowed_functions"):
        RunConfig.load(toml)


# -- limits: refusals, never exceptions -------------------------------------------------------
def _timed(sql: str, dialect: str = "mysql"):
    start = time.perf_counter()
    decision = check_read_only(sql, dialect)
    return decision, time.perf_counter() - start


@pytest.mark.parametrize("dialect", DIALECTS)
def test_huge_and_deep_statements_are_refused_quickly(dialect):
    cases = {
        "1.2 MB": "SELECT 1" + ", 1" * 400_000,
        "5,000-deep parentheses": "SELECT " + "(" * 5000 + "1" + ")" * 5000,
        "300 nested subqueries": "SELECT " + "(SELECT " * 300 + "1" + ")" * 300,
        "20,000 tokens": "SELECT 1 FROM t WHERE a IN (" + ", ".join(["1"] * 10_000) + ")",
    }
    for what, sql in cases.items():
        decision, elapsed = _timed(sql, dialect)
        assert decision.status is ExecStatus.TOO_LARGE, (what, decision.reason)
        assert elapsed < 5.0, f"{what}: {elapsed:.2f}s"  # a hang guard; bench/ has figures


def test_recursion_inside_sqlglot_is_a_refusal(monkeypatch):
    def explode(*_a, **_k):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(sqlglot, "parse", explode)
    decision = check_read_only("SELECT 1", "sqlite")
    assert decision.status is ExecStatus.TOO_LARGE


@pytest.mark.parametrize("error", [KeyError("x"), TypeError("x"), AttributeError("x")])
def test_any_error_inside_sqlglot_is_a_refusal(monkeypatch, error):
    def explode(*_a, **_k):
        raise error

    monkeypatch.setattr(sqlglot, "parse", explode)
    decision = check_read_only("SELECT 1", "postgres")
    assert decision.status is ExecStatus.FORBIDDEN
    assert type(error).__name__ in decision.reason


@pytest.mark.parametrize("dialect", DIALECTS)
def test_deep_expressions_without_parentheses_never_raise(dialect):
    for sql in (
        "SELECT " + "CASE WHEN 1 = 1 THEN " * 600 + "1" + " END" * 600,
        "SELECT " + "NOT " * 4000 + "1",
        "SELECT 1 FROM t WHERE " + " AND ".join(["a = 1"] * 2400),
    ):
        decision = check_read_only(sql, dialect)
        assert decision.allowed or decision.status in REFUSALS


@pytest.mark.parametrize("value", [None, 1, b"SELECT 1", ["SELECT 1"]])
def test_non_text_is_a_syntax_error(value):
    assert check_read_only(value, "sqlite").status is ExecStatus.SYNTAX_ERROR


# -- parse failures and basic verdicts --------------------------------------------------------
@pytest.mark.parametrize("sql", ["", "   ", ";", "selec 1", "SELECT 'unterminated",
                                 "SELECT a FROM t WHERE"])
def test_not_a_statement_is_a_syntax_error(sql):
    assert check_read_only(sql, "sqlite").status is ExecStatus.SYNTAX_ERROR


@pytest.mark.parametrize(
    ("dialect", "sql"),
    [
        ("mysql", "SELECT * FROM t INTO OUTFILE '/tmp/x'"),
        ("mysql", "SELECT NEXT VALUE FOR s"),
        ("postgres", "COPY t TO '/tmp/x'"),
        ("sqlite", "VACUUM INTO '/tmp/x'"),
        ("postgres", "EXPLAIN ANALYZE SELECT 1"),
    ],
)
def test_unparseable_text_naming_a_write_is_forbidden_not_a_syntax_error(dialect, sql):
    decision = check_read_only(sql, dialect)
    assert decision.status is ExecStatus.FORBIDDEN, decision.reason


REFUSED = [
    ("sqlite", "INSERT INTO t VALUES (1)"),
    ("sqlite", "UPDATE t SET a = 1"),
    ("sqlite", "DELETE FROM t"),
    ("sqlite", "DROP TABLE t"),
    ("sqlite", "CREATE TABLE x (a)"),
    ("sqlite", "ATTACH DATABASE 'x.db' AS x"),
    ("sqlite", "PRAGMA query_only = 0"),
    ("sqlite", "SELECT load_extension('evil')"),
    ("sqlite", "SELECT 1; SELECT 2"),
    ("mysql", "SET SESSION max_statement_time = 0"),
    ("mysql", "SELECT * FROM t FOR UPDATE"),
    ("mysql", "SELECT * FROM t LOCK IN SHARE MODE"),
    ("mysql", "SELECT 1 /*!, (SELECT 1 FROM t FOR UPDATE) */"),
    ("mysql", "SELECT LOAD_FILE('/etc/passwd')"),
    ("mysql", "CALL p()"),
    ("mysql", "SELECT @v := 'x'"),
    ("postgres", "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d"),
    ("postgres", "SELECT * INTO newt FROM t"),
    ("postgres", "SELECT set_config('statement_timeout', '0', false)"),
    ("postgres", "SELECT nextval('s')"),
    ("postgres", "SELECT * FROM t FOR SHARE"),
    ("postgres", "BEGIN"),
]


@pytest.mark.parametrize(("dialect", "sql"), REFUSED)
def test_refused_as_forbidden(dialect, sql):
    decision = check_read_only(sql, dialect)
    assert decision.status is ExecStatus.FORBIDDEN, decision
    assert decision.reason


# -- stored form ----------------------------------------------------------------------------
def test_stored_form_keeps_the_original_only_when_it_spells_what_runs():
    assert canonical_sql("select count(*) from orders ;", "sqlite") == "select count(*) from orders"
    assert canonical_sql("SELECT ifnull(a, 1) FROM t", "sqlite") == "SELECT COALESCE(a, 1) FROM t"
    assert canonical_sql("SELECT a FROM t -- note", "sqlite") == "SELECT a FROM t"
    assert canonical_sql('SELECT "x" FROM t', "mysql") == "SELECT 'x' FROM t"
    assert canonical_sql("SELECT pg_sleep(1)", "postgres") is None
    assert stored_form("SELECT A FROM t", "SELECT a FROM t", "sqlite") == "SELECT a FROM t"
    manager = DatabaseManager("sqlite", {"root_path": str(example_db_root())})
    try:
        assert manager.canonical_sql("select a from t x") == "SELECT a FROM t AS x"
    finally:
        manager.close()


# -- on every engine: the rendering runs, and EXPLAIN takes it ----------------------------------
ENGINE_QUERIES = [
    ("SELECT count(*) FROM singer", [(5,)]),
    (("select s.name, count(c.concert_id) as n from singer s left join concert c on "
     "c.singer_id = s.singer_id group by s.name order by n desc, s.name limit 2"),
     [("Justin Brown", 2), ("Joe Sharp", 1)]),
    (("SELECT name FROM singer WHERE age > 50 UNION SELECT name FROM singer WHERE age < 30 "
     "ORDER BY 1"), [("Joe Sharp",), ("Justin Brown",)]),
    (("WITH f AS (SELECT * FROM singer WHERE country = 'France') SELECT count(*) FROM f "
     "-- French singers"), [(2,)]),
    ("SELECT name FROM singer WHERE name LIKE '%!_%' ESCAPE '!' OR name LIKE 'T%' /* t */",
     [("Timbaland",)]),
    (("SELECT CASE WHEN age >= 40 THEN 'older' ELSE 'younger' END AS g, count(*) FROM singer "
     "GROUP BY CASE WHEN age >= 40 THEN 'older' ELSE 'younger' END ORDER BY 1"),
     [("older", 3), ("younger", 2)]),
    ("SELECT upper(name), length(country) FROM singer WHERE singer_id = 4",
     [("ROSE WHITE", 6)]),
    ("SELECT singer_id, rank() OVER (ORDER BY age DESC) FROM singer ORDER BY singer_id",
     [(1, 1), (2, 4), (3, 5), (4, 3), (5, 2)]),
    ("SELECT round(avg(fee), 1) FROM concert WHERE year = 2015", [(1000.1,)]),
]


def _plain(value):
    """Numbers compared across drivers: Decimal/float to a rounded float, whole ones to int."""
    from decimal import Decimal

    if isinstance(value, (Decimal, float)):
        value = round(float(value), 6)
        return int(value) if value.is_integer() else value
    return value


def test_renderings_run_and_explain_on_every_engine(manager, engine_kind):
    from tests.db import dataset

    for sql, expected in ENGINE_QUERIES:
        decision = manager.guard(sql)
        assert decision.allowed, (sql, decision.reason)
        res = manager.execute(dataset.DB_ID, sql)
        assert res.ok, (engine_kind, decision.sql, res.error)
        got = [tuple(_plain(v) for v in row) for row in res.rows]
        assert got == expected, (engine_kind, decision.sql, res.rows)
        assert manager.explain(dataset.DB_ID, sql).ok, (engine_kind, decision.sql)
    for wrapper in ("(ANALYSE) SELECT count(*) FROM singer", "EXPLAIN ANALYZE SELECT 1"):
        assert manager.explain(dataset.DB_ID, wrapper).status in REFUSALS
