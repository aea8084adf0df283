"""What the filters store: the SQL that was checked and run (see "Stored SQL" in
docs/ARCHITECTURE.md) — the original when it spells exactly what ran, else the rendering."""

from __future__ import annotations

from sqlsynth.operators.filter import (
    SQLExecutabilityFilter,
    SQLExecutionFilter,
    Text2SQLCoTVotingGenerator,
)


def row(sql):
    return {"db_id": "shop", "SQL": sql, "extra": "kept"}


async def test_filters_keep_sql_that_spells_what_ran(dbm, ctx):
    sql = "select name from customers where city = 'Leeds' ;"
    for op in (SQLExecutabilityFilter(dbm), SQLExecutionFilter(dbm)):
        out = await op.aprocess_row(row(sql), ctx)
        assert out == [row("select name from customers where city = 'Leeds'")]


async def test_filters_store_the_rendering_when_the_text_differs(dbm, ctx):
    cases = {
        "SELECT ifnull(city, '?') FROM customers": "SELECT COALESCE(city, '?') FROM customers",
        "SELECT name FROM customers c -- note\nWHERE c.id = 1":
            "SELECT name FROM customers AS c WHERE c.id = 1",
    }
    for sql, stored in cases.items():
        for op in (SQLExecutabilityFilter(dbm), SQLExecutionFilter(dbm)):
            out = await op.aprocess_row(row(sql), ctx)
            assert out == [row(stored)], (type(op).__name__, out)
            assert dbm.guard(out[0]["SQL"]).sql == dbm.guard(sql).sql  # same statement runs


async def test_cot_voting_stores_the_form_that_ran(dbm, ctx):
    answer = "Reasoning.\n```sql\nSELECT ifnull(city, '?') FROM customers WHERE id = 2\n```"
    base = {"db_id": "shop", "SQL": "SELECT 'gold'", "cot_responses": [answer]}
    # the policy that takes the reasoning's SQL (the default keeps the row's own SQL)
    out = await Text2SQLCoTVotingGenerator(dbm, policy="replace").aprocess_row(base, ctx)
    assert out[0]["SQL"] == "SELECT COALESCE(city, '?') FROM customers WHERE id = 2"
    assert out[0]["cot_reasoning"] == answer
