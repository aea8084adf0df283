from __future__ import annotations

import random
import re

import pytest

from sqlsynth.llm.errors import LLMResponseError, LLMUnavailableError
from sqlsynth.operators.base import Reject
from sqlsynth.operators.generate import SQLVariationGenerator
from sqlsynth.operators.generate.sql_variation_generator import pick_variation_kinds
from sqlsynth.prompts.sql_variation import VARIATION_KINDS

ROW = {
    "db_id": "shop",
    "SQL": "SELECT name FROM customers WHERE city = 'Leeds'",
    "question": "Who lives in Leeds?",
    "source": "bird-dev",
}


def kind_of(text: str) -> str:
    return re.search(r"Kind: (.+?) - ", text).group(1)


def by_kind(text: str, n: int) -> str:
    """A distinct rewrite per kind, so every variation is recognisable."""
    slug = kind_of(text).split()[0].lower()
    return f"Here it is:\n```sql\nSELECT name AS {slug} FROM customers\n```"


@pytest.fixture
def make(dbm, fake_chat):
    def build(responder=by_kind, delay=0.0, **kw):
        llm = fake_chat(responder, delay=delay)
        return SQLVariationGenerator(llm, dbm, kw.pop("num_variations", 3), **kw), llm

    return build


def test_kinds_use_every_kind_before_repeating():
    kinds = pick_variation_kinds(random.Random(3), 8)
    assert sorted(kinds[:6]) == sorted(VARIATION_KINDS)
    assert kinds == pick_variation_kinds(random.Random(3), 8)
    assert len(pick_variation_kinds(random.Random(3), 2)) == 2


async def test_original_first_then_one_row_per_kind(make, ctx):
    op, llm = make(num_variations=4, delay=0.02)
    out = await op.aprocess_row(ROW, ctx)
    assert out[0] == {**ROW, "sql_variation_type": None}
    kinds = [kind_of(c["messages"][-1]["content"]) for c in llm.calls]
    assert len(set(kinds)) == 4 and set(kinds) <= set(VARIATION_KINDS)
    assert [r["sql_variation_type"] for r in out[1:]] == kinds
    for row, kind in zip(out[1:], kinds):
        assert row["SQL"] == f"SELECT name AS {kind.split()[0].lower()} FROM customers"
        assert row["source"] == "bird-dev" and row["db_id"] == "shop"
        assert "question" not in row  # it described the original query
    assert llm.max_in_flight == 4  # requested concurrently
    # the draw depends on the seed and row content only
    again, _ = make(num_variations=4)
    assert [r["sql_variation_type"] for r in await again.aprocess_row(ROW, ctx)] == [
        r["sql_variation_type"] for r in out
    ]


async def test_prompt_shows_schema_values_and_original(make, ctx):
    op, llm = make(num_variations=1)
    await op.aprocess_row(ROW, ctx)
    user = llm.calls[0]["messages"][-1]["content"]
    assert "customers" in user and "'Leeds'" in user and ROW["SQL"] in user
    assert "```sql" in user and llm.calls[0]["temperature"] > 0


async def test_failed_rewrites_are_left_out_and_all_failed_rejects(make, ctx):
    def half(text: str, n: int) -> str | Exception:
        kind = kind_of(text)
        if kind in ("Data Value Changes", "Business Logic Changes", "Performance Rewrites"):
            return "I cannot do that."
        if kind.startswith("Query"):
            return LLMResponseError("HTTP 500")
        return by_kind(text, n)

    op, _ = make(responder=half, num_variations=6)
    out = await op.aprocess_row(ROW, ctx)
    assert out[0]["sql_variation_type"] is None
    assert sorted(r["sql_variation_type"] for r in out[1:]) == [
        "Advanced SQL Features",
        "Complexity Enhancements",
    ]
    op, _ = make(responder=lambda t, n: "no sql here", keep_original=False)
    out = await op.aprocess_row(ROW, ctx)
    assert isinstance(out, Reject) and out.reason == "no_variation"
    assert "no_sql_block" in out.detail


async def test_input_checks_and_unavailable(make, ctx):
    op, llm = make()
    assert (await op.aprocess_row({"db_id": "shop"}, ctx)) == Reject(
        "missing_field", "field 'SQL' is missing or empty"
    )
    out = await op.aprocess_row({**ROW, "db_id": "nope"}, ctx)
    assert isinstance(out, Reject) and out.reason == "unknown_db_id"
    assert llm.calls == []
    op, _ = make(responder=lambda t, n: LLMUnavailableError("key rejected"))
    with pytest.raises(LLMUnavailableError):
        await op.aprocess_row(ROW, ctx)


async def test_renamed_keys(make, ctx):
    op, _ = make(num_variations=1)
    op.bind(input_sql_key="query", input_db_id_key="db", output_sql_variation_type_key="kind")
    out = await op.aprocess_row({"query": ROW["SQL"], "db": "shop"}, ctx)
    assert [set(r) for r in out] == [{"query", "db", "kind"}] * 2


def test_dedup_key_by_spelling_normalises_layout_but_keeps_values(make):
    op, _ = make(dedup_by_meaning=False)
    a = {"db_id": "shop", "SQL": "SELECT name FROM customers WHERE city = 'Leeds'"}
    b = {"db_id": "shop", "SQL": "select  name\nfrom customers where city='Leeds';"}
    c = {"db_id": "shop", "SQL": "SELECT name FROM customers WHERE city = 'York'"}
    assert op.dedup_key(a) == op.dedup_key(b)
    assert op.dedup_key(a) != op.dedup_key(c)
    assert op.dedup_key(a) != op.dedup_key({**a, "db_id": "zoo"})


def test_dedup_key_by_meaning_treats_literal_and_alias_variants_as_duplicates(make):
    # issue 10: refine no longer keeps rewrites that only change a constant or an alias
    op, _ = make()
    a = {"db_id": "shop", "SQL": "SELECT name FROM customers WHERE city = 'Leeds'"}
    c = {"db_id": "shop", "SQL": "SELECT c.name AS n FROM customers AS c WHERE c.city = 'York'"}
    d = {"db_id": "shop", "SQL": "SELECT name FROM customers WHERE city <> 'Leeds'"}
    assert op.dedup_key(a) == op.dedup_key(c)
    assert op.dedup_key(a) != op.dedup_key(d)
    assert op.dedup_key(a) != op.dedup_key({**a, "db_id": "zoo"})
