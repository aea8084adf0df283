from __future__ import annotations

import re
from collections import Counter

import pytest

from sqlsynth.llm.errors import LLMResponseError
from sqlsynth.operators.base import Reject
from sqlsynth.operators.generate import Text2SQLQuestionGenerator
from sqlsynth.operators.generate.question_generator import medoid_index
from sqlsynth.prompts.question_generation import QUESTION_STYLES

ROW = {"db_id": "shop", "SQL": "SELECT name FROM customers WHERE city = 'Leeds'"}


def style_of(text: str) -> str:
    return re.search(r"Style: (.+?) - ", text).group(1)


def answer(question: str, evidence: str = "Leeds means city = 'Leeds'") -> str:
    return f"<question>{question}</question>\n<evidence>{evidence}</evidence>"


# Four candidates; "B" is nearest to the others, "D" is the outlier.
VECTORS = {
    "A": [1.0, 0.0, 0.0],
    "B": [0.8, 0.6, 0.0],
    "C": [0.0, 1.0, 0.0],
    "D": [0.0, 0.0, 1.0],
}


@pytest.fixture
def make(dbm, fake_chat, fake_embeddings):
    def build(responder, candidates=4, vectors=VECTORS):
        llm, emb = fake_chat(responder), fake_embeddings(vectors)
        op = Text2SQLQuestionGenerator(llm, emb, dbm, question_candidates_num=candidates)
        return op, llm, emb

    return build


def test_medoid_index_is_the_candidate_closest_to_the_rest():
    assert medoid_index([VECTORS[k] for k in "ABCD"]) == 1
    assert medoid_index([[1, 0], [1, 0], [0, 1]]) == 0  # ties go to the earliest
    assert medoid_index([[0, 0], [1, 0], [1, 0]]) == 1  # a zero vector is far from all
    with pytest.raises(ValueError):
        medoid_index([])


async def test_medoid_candidate_is_chosen_with_one_embedding_call(make, ctx):
    replies = [answer(q) for q in "ABCD"]
    op, llm, emb = make(lambda text, n: replies, candidates=4)
    (row,) = await op.aprocess_row(ROW, ctx)
    assert row["question"] == "B"
    assert row["evidence"] == "Leeds means city = 'Leeds'"
    assert row["question_type"] in QUESTION_STYLES
    assert emb.calls == [["A", "B", "C", "D"]]
    (call,) = llm.calls
    assert call["n"] == 4 and call["temperature"] > 0
    assert style_of(call["messages"][-1]["content"]) == row["question_type"]


async def test_duplicates_are_embedded_once_and_outvote(make, ctx):
    replies = [answer(q) for q in ["D", "A", "D", "C"]]
    op, _, emb = make(lambda text, n: replies)
    (row,) = await op.aprocess_row(ROW, ctx)
    assert row["question"] == "D" and emb.calls == [["D", "A", "C"]]


async def test_two_or_fewer_parsed_candidates_take_the_first(make, ctx):
    replies = ["garbage", answer("C"), "<question>x", answer("A")]
    op, _, emb = make(lambda text, n: replies)
    (row,) = await op.aprocess_row(ROW, ctx)
    assert row["question"] == "C" and emb.calls == []


async def test_unparseable_candidates_reject(make, ctx):
    op, _, _ = make(lambda text, n: "What customers live in Leeds?")
    out = await op.aprocess_row(ROW, ctx)
    assert isinstance(out, Reject) and out.reason == "no_parseable_question"


async def test_style_is_deterministic_and_vague_styles_need_evidence(make, ctx):
    seen: list[str] = []

    def reply(text: str, n: int) -> str:
        seen.append(style_of(text))
        return answer("Q", evidence="")  # no evidence at all

    op, _, _ = make(reply, candidates=1)
    rows = [{**ROW, "SQL": f"SELECT name FROM customers LIMIT {i}"} for i in range(80)]
    outcomes = [await op.aprocess_row(r, ctx) for r in rows]
    assert set(seen) == set(QUESTION_STYLES)
    for style, out in zip(seen, outcomes):
        if style in ("Vague", "Metaphorical"):
            assert isinstance(out, Reject) and out.reason == "no_parseable_question"
        else:
            assert out[0]["question_type"] == style and out[0]["evidence"] == ""
    seen_first = list(seen)
    seen.clear()
    for r in rows:
        await op.aprocess_row(r, ctx)
    assert seen == seen_first
    assert max(Counter(seen_first).values()) < 30


async def test_vague_prompt_demands_evidence(make, ctx):
    prompts: dict[str, str] = {}

    def reply(text: str, n: int) -> str:
        prompts[style_of(text)] = text
        return answer("Q")

    op, _, _ = make(reply, candidates=1)
    for i in range(80):
        await op.aprocess_row({**ROW, "SQL": f"SELECT id FROM orders LIMIT {i}"}, ctx)
    assert "explain every vague or figurative phrase" in prompts["Vague"]
    assert "explain every vague or figurative phrase" not in prompts["Formal"]
    assert "<question>" in prompts["Formal"] and "'Leeds'" in prompts["Formal"]


async def test_existing_question_is_kept_without_llm_call(make, ctx):
    op, llm, emb = make(lambda text, n: answer("new"))
    (row,) = await op.aprocess_row({**ROW, "question": "Who is in Leeds?"}, ctx)
    assert row == {**ROW, "question": "Who is in Leeds?", "evidence": "", "question_type": None}
    (row,) = await op.aprocess_row(
        {**ROW, "question": "Q?", "evidence": "E", "question_type": "Formal"}, ctx
    )
    assert (row["evidence"], row["question_type"]) == ("E", "Formal")
    assert llm.calls == [] and emb.calls == []
    (row,) = await op.aprocess_row({**ROW, "question": "  "}, ctx)
    assert row["question"] == "new"


async def test_rejects(make, ctx):
    op, _, _ = make(lambda text, n: LLMResponseError("bad body"))
    out = await op.aprocess_row(ROW, ctx)
    assert isinstance(out, Reject) and out.reason == "llm_error"
    out = await op.aprocess_row({"SQL": "SELECT 1"}, ctx)
    assert out == Reject("missing_field", "field 'db_id' is missing or empty")
    out = await op.aprocess_row({**ROW, "db_id": "mars"}, ctx)
    assert isinstance(out, Reject) and out.reason == "unknown_db_id"


async def test_embedding_failure_rejects(make, ctx):
    replies = [answer(q) for q in "ABCE"]  # "E" has no vector: the fake raises KeyError
    op, _, _ = make(lambda text, n: replies)
    out = await op.aprocess_row(ROW, ctx)
    assert isinstance(out, Reject) and out.reason == "embedding_error"
