"""CanonicalQuestionGenerator and CanonicalCoTGenerator: no model, the contract's keys, and a
reasoning that the voting step accepts by execution."""

from __future__ import annotations

import pytest

import sqlsynth
from sqlsynth.operators.base import Reject
from sqlsynth.operators.filter import Text2SQLCoTVotingGenerator, Text2SQLQuestionFilter
from sqlsynth.operators.generate import CanonicalCoTGenerator, CanonicalQuestionGenerator
from sqlsynth.sql import extract_sql

SQL = ("SELECT c.name, COUNT(*) FROM customers AS c JOIN orders AS o ON o.customer_id = c.id "
       "WHERE c.city = 'Leeds' GROUP BY c.name ORDER BY COUNT(*) DESC LIMIT 1")


async def test_question_is_written_without_a_model(dbm, ctx):
    (row,) = await CanonicalQuestionGenerator(dbm).aprocess_row({"db_id": "shop", "SQL": SQL}, ctx)
    assert row["question"].startswith("Among the customers joined with their orders for which "
                                      "the city of the customer is 'Leeds', grouped by the name")
    assert row["evidence"] == ("Rows are matched where the customer id of the order equals the "
                               "id of the customer.")
    assert row["question_source"] == "canonical" and row["question_type"] is None
    assert isinstance(await Text2SQLQuestionFilter().aprocess_row(row, ctx), list)


async def test_question_keys_rejects_and_kept_questions(dbm, ctx):
    op = CanonicalQuestionGenerator(dbm)
    op.bind(input_sql_key="query", output_question_key="q", output_evidence_key="ev")
    (row,) = await op.aprocess_row({"db_id": "shop", "query": "SELECT name FROM customers"}, ctx)
    assert row["q"] == "What are the names of the customers?" and row["ev"] == ""
    assert op.output_columns == ["q", "ev", "question_type", "question_source"]
    out = await op.aprocess_row({"db_id": "shop", "query": "SELECT julianday(placed_on) FROM "
                                 "orders"}, ctx)
    assert isinstance(out, Reject) and out.reason == "not_realizable"
    assert "JULIANDAY" in out.detail
    assert await op.aprocess_row({"db_id": "nope", "query": "SELECT 1"}, ctx) == Reject(
        "unknown_db_id", "field 'db_id': no database 'nope'")
    assert (await op.aprocess_row({"db_id": "shop"}, ctx)).reason == "missing_field"
    (kept,) = await op.aprocess_row({"db_id": "shop", "query": "SELECT 1", "q": "Mine?"}, ctx)
    assert kept["q"] == "Mine?" and kept["ev"] == "" and "question_source" not in kept


async def test_reasoning_ends_in_the_sql_and_the_voter_accepts_it(dbm, ctx):
    row = {"db_id": "shop", "SQL": SQL + ";", "question": "q?", "evidence": ""}
    (out,) = await CanonicalCoTGenerator(dbm).aprocess_row(row, ctx)
    (reasoning,) = out["cot_responses"]
    assert out["cot_source"] == "canonical"
    assert extract_sql(reasoning) == SQL
    for step in ("The data comes from the table customers (as c)",
                 "Add the table orders (as o) with JOIN on o.customer_id = c.id",
                 "Keep only the rows where c.city = 'Leeds' (the value 'Leeds' as stored)",
                 "Group the rows by c.name", "Sort by COUNT(*) descending",
                 "Keep only the first 1 row(s)"):
        assert step in reasoning
    (voted,) = await Text2SQLCoTVotingGenerator(dbm).aprocess_row(out, ctx)
    assert voted["cot_reasoning"] == reasoning and voted["cot_vote"] == "1/1"


async def test_reasoning_keys_and_rejects(dbm, ctx):
    op = CanonicalCoTGenerator(dbm)
    op.bind(output_cot_responses_key="cands", output_cot_key="cot")
    assert op.output_columns == ["cands", "cot_source"]
    out = await op.aprocess_row({"db_id": "shop", "SQL": "SELEC nonsense", "question": "q?"}, ctx)
    assert isinstance(out, Reject) and out.reason == "not_realizable"
    assert (await op.aprocess_row({"db_id": "shop", "SQL": "SELECT 1"}, ctx)).reason == (
        "missing_field")


@pytest.mark.parametrize("name", ["CanonicalQuestionGenerator", "CanonicalCoTGenerator"])
def test_exported_from_the_package(name):
    assert getattr(sqlsynth, name) is getattr(sqlsynth.operators.generate, name)


async def test_refused_sql_takes_the_sampler_texts_when_the_row_has_them(dbm, ctx):
    texts = {"question": "What is the day number of each order date?", "evidence": "",
             "reasoning": "1. Read the dates.\n\n```sql\nSELECT julianday(placed_on) FROM orders\n```"}
    row = {"db_id": "shop", "SQL": "SELECT julianday(placed_on) FROM orders", "canonical": texts}
    (asked,) = await CanonicalQuestionGenerator(dbm).aprocess_row(row, ctx)
    assert asked["question"] == texts["question"] and asked["question_source"] == "canonical"
    # a query the realizer words is worded from its SQL, whatever the row carries
    (own,) = await CanonicalQuestionGenerator(dbm).aprocess_row(
        {**row, "SQL": "SELECT name FROM customers"}, ctx)
    assert own["question"] == "What are the names of the customers?"
    (cot,) = await CanonicalCoTGenerator(dbm).aprocess_row(
        {**row, "SQL": "SELEC broken", "question": "q?"}, ctx)
    assert cot["cot_responses"] == [texts["reasoning"]]
