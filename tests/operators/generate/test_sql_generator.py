from __future__ import annotations

from collections import Counter

import pytest

from sqlsynth.llm.errors import LLMResponseError, LLMUnavailableError
from sqlsynth.operators.base import Reject, StepContext
from sqlsynth.operators.generate import SQLGenerator
from sqlsynth.prompts.sql_functions import SQLITE_FUNCTIONS
from sqlsynth.prompts.sql_generation import COMPLEXITY_LEVELS

ANSWER = "Draft:\n```sql\nSELECT 1\n```\nFinal:\n```sql\nSELECT name FROM customers;\n```"


@pytest.fixture
def make(dbm, fake_chat):
    def build(responder=lambda text, n: ANSWER, **kw):
        llm = fake_chat(responder)
        return SQLGenerator(llm, dbm, kw.pop("generate_num", 3), **kw), llm

    return build


def test_plan_sources_one_row_per_database_and_slot_in_db_order(make, ctx):
    op, _ = make(generate_num=2)
    assert op.plan_sources(ctx) == [
        {"db_id": "shop", "slot": 0},
        {"db_id": "shop", "slot": 1},
        {"db_id": "zoo", "slot": 0},
        {"db_id": "zoo", "slot": 1},
    ]


def test_prompt_choices_are_deterministic_and_cover_all_levels(make, ctx):
    op, _ = make()
    rows = [{"db_id": "shop", "slot": i} for i in range(60)]
    first = [op.draw_prompt_choices(r, ctx) for r in rows]
    again = [op.draw_prompt_choices(r, StepContext(5, "test_step", seed=7)) for r in rows]
    assert first == again
    assert set(Counter(c["complexity"] for c in first)) == set(COMPLEXITY_LEVELS)
    assert {len(c["functions"]) for c in first} == {0, 1, 2}
    assert all(sig in SQLITE_FUNCTIONS for c in first for sig, _ in c["functions"])
    other = [op.draw_prompt_choices(r, StepContext(1, "test_step", seed=8)) for r in rows]
    assert other != first


async def test_prompt_grounds_in_schema_and_rows_and_takes_last_fenced_block(make, ctx):
    op, llm = make()
    row = {"db_id": "shop", "slot": 0}
    out = await op.aprocess_row(row, ctx)
    choice = op.draw_prompt_choices(row, ctx)
    assert out == [
        {
            "SQL": "SELECT name FROM customers",
            "db_id": "shop",
            "sql_complexity_type": choice["complexity"],
        }
    ]
    (call,) = llm.calls
    assert [m["role"] for m in call["messages"]] == ["system", "user"]
    user = call["messages"][1]["content"]
    assert "CREATE TABLE" in user and "orders" in user
    assert "INSERT INTO" in user and "'Leeds'" in user
    assert f"Complexity: {choice['complexity']} ({COMPLEXITY_LEVELS[choice['complexity']]})" in user
    for sig, _ in choice["functions"]:
        assert sig in user
    assert "SQLite" in user
    assert call["n"] == 1 and call["temperature"] > 0 and call["seed"] == choice["llm_seed"]


async def test_renamed_output_keys(make, ctx):
    op, _ = make()
    op.bind(output_sql_key="query", output_db_id_key="db", output_sql_complexity_key="level")
    (row,) = await op.aprocess_row({"db_id": "zoo", "slot": 1}, ctx)
    assert set(row) == {"query", "db", "level"}


async def test_rejects_carry_reasons(make, ctx):
    op, _ = make(responder=lambda text, n: "SELECT name FROM customers")
    out = await op.aprocess_row({"db_id": "shop", "slot": 0}, ctx)
    assert isinstance(out, Reject) and out.reason == "no_sql_block"
    assert "SELECT name" in out.detail
    out = await op.aprocess_row({"db_id": "nowhere", "slot": 0}, ctx)
    assert out == Reject("unknown_db_id", "field 'db_id': no database 'nowhere'")
    op, _ = make(responder=lambda text, n: LLMResponseError("HTTP 500 after 3 tries"))
    out = await op.aprocess_row({"db_id": "shop", "slot": 0}, ctx)
    assert isinstance(out, Reject) and out.reason == "llm_error"
    assert "LLMResponseError" in out.detail


async def test_unavailable_llm_aborts(make, ctx):
    op, _ = make(responder=lambda text, n: LLMUnavailableError("server unreachable"))
    with pytest.raises(LLMUnavailableError):
        await op.aprocess_row({"db_id": "shop", "slot": 0}, ctx)


def test_dedup_key_is_per_database_literal_template(make):
    op, _ = make()
    a = {"SQL": "SELECT name FROM customers WHERE city = 'Leeds'", "db_id": "shop"}
    b = {"SQL": "select name from customers where city='York'", "db_id": "shop"}
    c = {**a, "db_id": "zoo"}
    d = {"SQL": "SELECT city FROM customers WHERE city = 'Leeds'", "db_id": "shop"}
    assert op.dedup_key(a) == op.dedup_key(b)
    assert op.dedup_key(a) != op.dedup_key(c)
    assert op.dedup_key(a) != op.dedup_key(d)


def test_constructor_validates(make):
    with pytest.raises(ValueError, match="generate_num"):
        make(generate_num=-1)
    op, _ = make()
    with pytest.raises(TypeError, match="unexpected keyword"):
        op.bind(input_sql_key="SQL")
