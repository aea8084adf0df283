"""Seed queries are built by sqlglot with proper quoting and escaping for each dialect."""

from __future__ import annotations

import sqlite3

import pytest

from sqlsynth.engine.keywords import parse_json_reply, validate_keywords, validate_variants
from sqlsynth.engine.probes import Probe, classify, escape_like, holds_text, probe_sql


def test_hostile_value_stays_a_literal():
    value = "x' OR 1=1; DROP TABLE t; --"
    sql = probe_sql(Probe("k", "t", "c", value, "exact"), "sqlite")
    assert sql == "SELECT DISTINCT \"c\" FROM \"t\" WHERE \"c\" = 'x'' OR 1=1; DROP TABLE t; --'"
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (c TEXT)")
    conn.execute("INSERT INTO t VALUES (?)", (value,))
    assert conn.execute(sql).fetchall() == [(value,)]


@pytest.mark.parametrize("dialect, quote", [("sqlite", '"'), ("postgres", '"'), ("mysql", "`")])
def test_identifiers_are_quoted_per_dialect(dialect, quote):
    sql = probe_sql(Probe("k", "order items", 'we"ird', "v", "like"), dialect)
    assert sql.startswith(f"SELECT DISTINCT {quote}")
    assert "LIKE '%v%'" in sql


def test_like_wildcards_in_values_are_literal():
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (c TEXT)")
    conn.executemany("INSERT INTO t VALUES (?)", [("50% off",), ("500 off",), ("a_b",), ("axb",)])
    for value, expected in [("0%", ["50% off"]), ("a_b", ["a_b"]), ("!", [])]:
        sql = probe_sql(Probe("k", "t", "c", value, "like"), "sqlite")
        assert [r[0] for r in conn.execute(sql)] == expected, sql
    assert escape_like("a!%_") == "a!!!%!_"


def test_non_text_columns():
    assert probe_sql(Probe("k", "t", "n", "abc", "exact", text_column=False), "sqlite") is None
    assert probe_sql(Probe("k", "t", "n", "5", "exact", text_column=False),
                     "postgres").endswith('"n" = 5')
    assert "CAST(\"n\" AS TEXT) LIKE '%5%'" in probe_sql(
        Probe("k", "t", "n", "5", "like", text_column=False), "postgres")


def test_untyped_columns_hold_text_only_on_sqlite():
    assert holds_text("", "sqlite") and holds_text("blob", "sqlite")
    assert holds_text("VARCHAR(20)", "postgres")
    assert not holds_text("INTEGER", "sqlite") and not holds_text("", "postgres")
    assert not holds_text("", "mysql")


def test_classify():
    assert (classify([]), classify(["a"]), classify(["a", "b"])) == ("none", "unique", "multiple")


def test_parse_json_reply_variants():
    assert parse_json_reply('text\n```json\n{"a": 1}\n```') == {"a": 1}
    assert parse_json_reply('sure: {"a": 2} done') == {"a": 2}
    with pytest.raises(ValueError):
        parse_json_reply("no json here")


def test_validate_keywords_case_insensitive_and_drops_unknowns():
    tables = {"Customers": ["State", "city"]}
    plan = validate_keywords({"content_keywords": [
        {"keyword": "Texas", "table": "customers", "columns": ["state", "customers.CITY", "zip"]},
        {"keyword": "x", "table": "nope", "columns": ["a"]},
        {"keyword": "y", "table": "Customers", "columns": ["zip"]},
        "junk",
    ], "schema_keywords": ["customers"]}, tables)
    assert [(k.keyword, k.table, k.columns) for k in plan.content] == [
        ("Texas", "Customers", ("State", "city"))]
    assert len(plan.dropped) == 5 and plan.schema == ["customers"]


def test_validate_variants_caps_and_keeps_keyword():
    values, dropped = validate_variants({"values": ["a", "b", "a", 7, "", "c"]}, "kw", 3)
    assert values == ["a", "b", "7", "kw"]
    assert {d["reason"] for d in dropped} == {"not a non-empty string", "more than 3 proposals"}
