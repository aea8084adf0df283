import pytest

from sqlsynth.sql import classify_statement, extract_sql, sql_meaning_key, sql_template


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Here:\n```sql\nSELECT 1;\n```", "SELECT 1"),
        ("draft\n```sql\nSELECT 1\n```\nfinal\n```SQL\nSELECT 2 ;\n```", "SELECT 2"),
        # a later non-sql block does not beat the last sql block
        ("```sql\nSELECT 3\n```\nresult:\n```json\n{\"a\": 1}\n```", "SELECT 3"),
        # no sql tag anywhere: last fenced block of any tag
        ("```\nSELECT 4\n```", "SELECT 4"),
        ("```sqlite\nSELECT 5\n```", "SELECT 5"),
        ("```sql SELECT 6;```", "SELECT 6"),
        # empty blocks are skipped
        ("```sql\nSELECT 7\n```\n```sql\n\n```", "SELECT 7"),
        ("no code here", None),
        ("", None),
        (None, None),
    ],
)
def test_extract_sql(text, expected):
    assert extract_sql(text) == expected


def test_template_ignores_literals_and_layout():
    a = sql_template("SELECT * FROM t WHERE a = 5", "sqlite")
    b = sql_template("select *  from t where a=7", "sqlite")
    assert a == b
    assert "5" not in a and "?" in a


def test_template_distinguishes_structure():
    assert sql_template("SELECT a FROM t WHERE b = 1", "sqlite") != \
        sql_template("SELECT a FROM t WHERE b > 1", "sqlite")


def test_template_strings_negatives_and_quoted_values():
    a = sql_template("SELECT a FROM t WHERE b = 'x' AND c = -3 AND d IN (1, 2) LIMIT 4", "sqlite")
    b = sql_template('SELECT a FROM t WHERE b = "y" AND c = 9 AND d IN (5, 6) LIMIT 1', "sqlite")
    assert a == b
    assert "'x'" not in a


def test_template_keeps_quoted_identifiers_outside_value_positions():
    assert "col x" in sql_template('SELECT "col x" FROM t', "sqlite").lower()


def test_template_falls_back_on_unparseable_sql():
    a = sql_template("SELEC a FRM t WHERE b = 'x' AND c = 3", "sqlite")
    b = sql_template("selec  a frm t where b='yy' and c=44", "sqlite")
    assert a == b
    assert "'x'" not in a and "3" not in a


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("SELECT 1", "select"),
        ("WITH x AS (SELECT 1) SELECT * FROM x", "select"),
        ("SELECT a FROM t UNION SELECT a FROM s", "select"),
        ("INSERT INTO t VALUES (1)", "insert"),
        ("UPDATE t SET a = 1", "update"),
        ("WITH x AS (SELECT 1) DELETE FROM t", "delete"),
        ("/* hi */ DROP TABLE t", "ddl"),
        ("CREATE TABLE u (a INT)", "ddl"),
        ("PRAGMA table_info(t)", "command"),
        ("SELECT 1; DROP TABLE t", "invalid"),
        ("", "invalid"),
    ],
)
def test_classify_statement(sql, kind):
    assert classify_statement(sql) == kind


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # aliases of tables and output columns, quoting, layout, literals
        ("SELECT s.name AS n FROM singer AS s WHERE s.age > 30 ORDER BY n",
         'select "name" from singer where age > 45 order by name'),
        ("SELECT a.x, b.y FROM t AS a JOIN u AS b ON a.id = b.id",
         "SELECT t.x, u.y FROM t JOIN u ON t.id = u.id"),
        ("SELECT p.x FROM t AS p JOIN t AS q ON p.id = q.pid",
         "SELECT one.x FROM t AS one JOIN t AS two ON one.id = two.pid"),
        ("SELECT COUNT(*) AS total FROM t WHERE a = 'x' LIMIT 9",
         "SELECT COUNT(*) FROM t WHERE a = 'y' LIMIT 1"),
        ("SELECT name FROM t", "SELECT name\nFROM t;"),
    ],
)
def test_meaning_key_equal_for_alias_layout_and_literal_variants(a, b):
    assert sql_meaning_key(a) == sql_meaning_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("SELECT name FROM t WHERE a = 1", "SELECT name FROM t WHERE a > 1"),
        ("SELECT name FROM t", "SELECT age FROM t"),
        ("SELECT name FROM t", "SELECT name FROM u"),
        ("SELECT a.x FROM t AS a JOIN u AS b ON a.id = b.id",
         "SELECT b.x FROM t AS a JOIN u AS b ON a.id = b.id"),
        ("SELECT name FROM t ORDER BY name", "SELECT name FROM t ORDER BY name DESC"),
    ],
)
def test_meaning_key_differs_for_different_queries(a, b):
    assert sql_meaning_key(a) != sql_meaning_key(b)


def test_meaning_key_keeps_names_that_need_quotes_and_falls_back():
    assert "col x" in sql_meaning_key('SELECT "col x" FROM t').lower()
    assert sql_meaning_key("SELEC a FRM t WHERE b = 'x'") == \
        sql_meaning_key("selec  a frm t where b='yy'")
