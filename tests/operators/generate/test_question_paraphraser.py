"""Text2SQLQuestionParaphraser: a rewrite is kept only when verified; no row is ever lost."""

from __future__ import annotations

import asyncio

import pytest

from sqlsynth.llm.errors import LLMResponseError, LLMUnavailableError
from sqlsynth.operators.base import Reject
from sqlsynth.operators.filter import Text2SQLQuestionFilter
from sqlsynth.operators.generate import Text2SQLQuestionParaphraser
from sqlsynth.prompts.paraphrase import parse_paraphrase

SQL = "SELECT name FROM customers WHERE city = 'Leeds'"
ROW = {"db_id": "shop", "SQL": SQL, "question": "What are the name of the customers whose city "
       "is 'Leeds'?", "evidence": "", "question_source": "canonical"}


def _run(op, row, ctx):
    return asyncio.run(op.aprocess_row(dict(row), ctx))


def test_a_verified_rewrite_replaces_the_question_and_keeps_the_template(dbm, ctx, fake_chat):
    chat = fake_chat(lambda text, n: "Question: Which customers live in Leeds?")
    op = Text2SQLQuestionParaphraser(chat, dbm, verifiers=[Text2SQLQuestionFilter()])
    [out] = _run(op, ROW, ctx)
    assert out["question"] == "Which customers live in Leeds?"
    assert out["question_source"] == "paraphrase"
    assert out["canonical_question"] == ROW["question"]
    assert out["paraphrase_status"] == "kept"
    assert "question_checks" in out["checks_passed"]  # the verifier ran on the rewrite
    assert out["verification_level"] == "paraphrase_checked"
    assert "Leeds" in chat.calls[0]["messages"][-1]["content"]


@pytest.mark.parametrize(("answer", "status"), [
    ("SELECT name FROM customers WHERE city = 'Leeds'", None),  # a question check rejects it
    ("Which customers live in York?", "lost_value"),
    ("The customers in Leeds are Ada and Cy.", "not_a_question"),
    ("", "empty_answer"),
    ("What are the name of the customers whose city is 'Leeds'?", "unchanged"),
])
def test_a_rejected_rewrite_leaves_the_canonical_question(dbm, ctx, fake_chat, answer, status):
    op = Text2SQLQuestionParaphraser(fake_chat(lambda text, n: answer), dbm,
                                     verifiers=[Text2SQLQuestionFilter()])
    [out] = _run(op, ROW, ctx)
    assert out["question"] == ROW["question"]
    assert out["question_source"] == "canonical"
    assert out["paraphrase_status"] != "kept"
    if status:
        assert out["paraphrase_status"] == status


def test_a_verifier_reject_is_recorded_with_its_reason(dbm, ctx, fake_chat):
    class Refuses:
        async def aprocess_row(self, row, ctx):
            assert row["question_source"] != "canonical"  # judged as a rewrite, not skipped
            return Reject("judged_inconsistent", "asks for York")

    op = Text2SQLQuestionParaphraser(fake_chat(lambda text, n: "Who lives in Leeds?"), dbm,
                                     verifiers=[Refuses()])
    [out] = _run(op, ROW, ctx)
    assert (out["question"], out["paraphrase_status"]) == (ROW["question"], "judged_inconsistent")
    assert "asks for York" in out["paraphrase_detail"]


def test_a_failed_request_keeps_the_row_and_an_outage_stops_the_run(dbm, ctx, fake_chat):
    failing = Text2SQLQuestionParaphraser(
        fake_chat(lambda text, n: LLMResponseError("bad answer")), dbm)
    [out] = _run(failing, ROW, ctx)
    assert (out["question"], out["paraphrase_status"]) == (ROW["question"], "llm_error")
    down = Text2SQLQuestionParaphraser(
        fake_chat(lambda text, n: LLMUnavailableError("endpoint down")), dbm)
    with pytest.raises(LLMUnavailableError):
        _run(down, ROW, ctx)


def test_rows_that_are_not_canonical_pass_without_a_request(dbm, ctx, fake_chat):
    chat = fake_chat(lambda text, n: "unused")
    row = {**ROW, "question_source": None}
    assert _run(Text2SQLQuestionParaphraser(chat, dbm), row, ctx) == [row]
    assert chat.calls == []


def test_parse_paraphrase_takes_the_first_line_without_label_or_quotes():
    assert parse_paraphrase('Rewritten question: "Who lives in Leeds?"\nmore') == \
        "Who lives in Leeds?"
    assert parse_paraphrase("\n\n") == ""


def test_the_fingerprint_is_deterministic_and_names_the_verifiers(dbm, fake_chat):
    from sqlsynth.storage.fingerprint import describe_operator, digest

    def make():
        return Text2SQLQuestionParaphraser(fake_chat(lambda t, n: ""), dbm,
                                           verifiers=[Text2SQLQuestionFilter()])
    assert digest(describe_operator(make())) == digest(describe_operator(make()))
    assert "Text2SQLQuestionFilter" in str(describe_operator(make()))
