from __future__ import annotations

import pytest

from sqlsynth.llm.errors import LLMUnavailableError
from sqlsynth.operators.base import Reject
from sqlsynth.operators.generate import Text2SQLCoTGenerator

ROW = {
    "db_id": "shop",
    "SQL": "SELECT name FROM customers WHERE city = 'Leeds'",
    "question": "Which customers live in Leeds?",
    "evidence": "",
}
GOOD = "We need customers filtered by city.\n```sql\nSELECT name FROM customers WHERE city='Leeds'\n```"


@pytest.fixture
def make(dbm, fake_chat):
    def build(responder, sampling_num=3):
        llm = fake_chat(responder)
        return Text2SQLCoTGenerator(llm, dbm, sampling_num=sampling_num), llm

    return build


async def test_candidates_kept_in_order_including_ones_without_sql(make, ctx):
    op, llm = make(lambda text, n: [GOOD, "I think it is name.", GOOD + " "])
    (row,) = await op.aprocess_row(ROW, ctx)
    assert row["cot_responses"] == [GOOD, "I think it is name.", GOOD + " "]
    assert "cot_reasoning" not in row
    (call,) = llm.calls
    assert call["n"] == 3 and call["temperature"] > 0


async def test_prompt_gives_hint_and_forbids_mentioning_it(make, ctx):
    op, llm = make(lambda text, n: GOOD, sampling_num=2)
    await op.aprocess_row({**ROW, "evidence": "Leeds is a city"}, ctx)
    user = llm.calls[0]["messages"][-1]["content"]
    assert ROW["SQL"] in user and ROW["question"] in user and "Leeds is a city" in user
    assert "never mention or allude to the hint" in user
    assert "step by step" in user and "```sql" in user


async def test_no_candidate_with_sql_rejects(make, ctx):
    op, _ = make(lambda text, n: "just prose")
    out = await op.aprocess_row(ROW, ctx)
    assert isinstance(out, Reject) and out.reason == "no_cot_with_sql"


async def test_keys_and_input_checks(make, ctx):
    op, llm = make(lambda text, n: GOOD)
    op.bind(output_cot_key="cot", output_cot_responses_key="cands", input_question_key="q")
    (row,) = await op.aprocess_row({**ROW, "q": ROW["question"]}, ctx)
    assert len(row["cands"]) == 3
    out = await op.aprocess_row({"db_id": "shop", "SQL": "SELECT 1"}, ctx)
    assert out == Reject("missing_field", "field 'q' is missing or empty")
    assert len(llm.calls) == 1
    op, _ = make(lambda text, n: LLMUnavailableError("down"))
    with pytest.raises(LLMUnavailableError):
        await op.aprocess_row(ROW, ctx)
