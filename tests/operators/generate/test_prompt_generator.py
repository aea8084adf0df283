from __future__ import annotations

from sqlsynth.operators.base import Reject
from sqlsynth.operators.generate import Text2SQLPromptGenerator

ROW = {"db_id": "shop", "question": "Who ordered most?", "evidence": "most = largest amount"}


async def test_prompt_has_engine_schema_examples_evidence_question(dbm, ctx):
    op = Text2SQLPromptGenerator(dbm)
    (row,) = await op.aprocess_row(ROW, ctx)
    prompt = row["prompt"]
    assert {k: row[k] for k in ROW} == ROW
    assert "SQLite" in prompt
    assert "customers" in prompt and "placed_on" in prompt and "'Leeds'" in prompt
    assert "External knowledge:\nmost = largest amount" in prompt
    assert prompt.index("most = largest amount") < prompt.index("Who ordered most?")
    assert "step by step" in prompt and "```sql" in prompt


async def test_missing_evidence_is_left_out(dbm, ctx):
    op = Text2SQLPromptGenerator(dbm)
    (row,) = await op.aprocess_row({"db_id": "zoo", "question": "Which animals?"}, ctx)
    assert "External knowledge" not in row["prompt"] and "animals" in row["prompt"]


async def test_custom_template_and_keys(dbm, ctx):
    class Mine:
        def build_prompt(self, *, engine, schema, question, evidence=""):
            return f"{engine}|{question}|{evidence}"

    op = Text2SQLPromptGenerator(dbm, prompt_template=Mine())
    op.bind(input_question_key="q", input_evidence_key="kb", output_prompt_key="p")
    (row,) = await op.aprocess_row({"db_id": "zoo", "q": "Q", "kb": "K"}, ctx)
    assert row["p"] == "SQLite|Q|K"


async def test_rejects(dbm, ctx):
    op = Text2SQLPromptGenerator(dbm)
    assert await op.aprocess_row({"db_id": "zoo", "question": ""}, ctx) == Reject(
        "missing_field", "field 'question' is missing or empty"
    )
    out = await op.aprocess_row({**ROW, "db_id": "moon"}, ctx)
    assert isinstance(out, Reject) and out.reason == "unknown_db_id"
