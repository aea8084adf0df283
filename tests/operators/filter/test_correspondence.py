"""Text2SQLCorrespondenceFilter against the scripted OpenAI-compatible server."""

from __future__ import annotations

import pytest

from sqlsynth.operators.base import Reject
from sqlsynth.operators.filter import Text2SQLCorrespondenceFilter
from sqlsynth.prompts.correspondence import Text2SQLCorrespondenceFilterPrompt, parse_verdict


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The query filters Leeds.\nVERDICT: YES", (True, "The query filters Leeds.")),
        ("Wrong city.\n\nverdict:no\n", (False, "Wrong city.")),
        ("VERDICT : YES", (True, "")),
        ("Looks right. VERDICT: YES", None),  # not on its own line
        ("VERDICT: YES\nbecause it is fine", None),  # not the last line
        ("VERDICT: NO\nOn reflection:\nVERDICT: YES", None),  # two verdicts
        ("VERDICT: MAYBE", None),
        ("**VERDICT: YES**", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_verdict_is_strict(text, expected):
    verdict = parse_verdict(text)
    if expected is None:
        assert verdict is None
    else:
        assert (verdict.consistent, verdict.reason) == expected


def test_prompt_has_schema_question_sql_and_format():
    text = Text2SQLCorrespondenceFilterPrompt().build_prompt(
        engine="SQLite", schema="customers(id INTEGER, name TEXT)", question="Who lives in Leeds?",
        evidence="Leeds is a city.", sql="SELECT name FROM customers WHERE city = 'Leeds'")
    for part in ("SQLite", "customers(id INTEGER", "Who lives in Leeds?", "Leeds is a city.",
                 "WHERE city = 'Leeds'", "VERDICT: YES", "VERDICT: NO"):
        assert part in text
    no_evidence = Text2SQLCorrespondenceFilterPrompt().build_prompt(
        engine="SQLite", schema="s", question="q", evidence="", sql="SELECT 1")
    assert "External knowledge" not in no_evidence


def judge(body):
    prompt = body["messages"][-1]["content"]
    if "Who lives in Leeds?" in prompt:
        return "It selects customers whose city is Leeds.\nVERDICT: YES"
    if "How many orders" in prompt:
        return "The query lists names instead of counting orders.\nVERDICT: NO"
    return "I think it is probably fine."


def row(question, sql="SELECT name FROM customers WHERE city = 'Leeds'", db_id="shop"):
    return {"db_id": db_id, "SQL": sql, "question": question, "evidence": ""}


async def test_judge_keeps_consistent_and_rejects_others(openai_server, scripted_chat, dbm, ctx):
    openai_server.responder = judge
    op = Text2SQLCorrespondenceFilter(scripted_chat, dbm)
    good = row("Who lives in Leeds?")
    # issue 10: kept rows carry the verdict as quality metadata
    assert await op.aprocess_row(good, ctx) == [{**good, "judge_verdict": "yes",
                                                 "checks_passed": ["judge"]}]
    assert await op.aprocess_row(row("How many orders are there?"), ctx) == Reject(
        "judged_inconsistent", "The query lists names instead of counting orders.")
    out = await op.aprocess_row(row("Something else?"), ctx)
    assert isinstance(out, Reject) and out.reason == "unparseable_verdict"
    assert "probably fine" in out.detail

    body = openai_server.chat_requests[0]["body"]
    assert body["temperature"] == 0.0 and isinstance(body["seed"], int)
    prompt = body["messages"][-1]["content"]
    assert "customers" in prompt and "Ada" in prompt  # schema with example values
    assert body["messages"][0]["role"] == "system"


async def test_judge_rejects_unknown_db_without_asking(openai_server, scripted_chat, dbm, ctx):
    op = Text2SQLCorrespondenceFilter(scripted_chat, dbm)
    out = await op.aprocess_row(row("Who lives in Leeds?", db_id="atlantis"), ctx)
    assert out.reason == "unknown_db_id"
    out = await op.aprocess_row({"db_id": "shop", "SQL": "SELECT 1", "question": " "}, ctx)
    assert out.reason == "missing_field"
    assert openai_server.chat_requests == []


async def test_same_row_same_request(openai_server, scripted_chat, dbm, ctx):
    openai_server.responder = judge
    op = Text2SQLCorrespondenceFilter(scripted_chat, dbm)
    await op.aprocess_row(row("Who lives in Leeds?"), ctx)
    await op.aprocess_row(row("Who lives in Leeds?"), ctx)
    assert len(openai_server.chat_requests) == 1  # the second was answered from the cache


async def test_unreachable_server_stops_the_run(dbm, ctx, tmp_path):
    import socket

    from sqlsynth.llm import LLMUnavailableError, OpenAIChat

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    chat = OpenAIChat("m", base_url=f"http://127.0.0.1:{port}/v1",
                      cache=tmp_path / "c.sqlite", timeout=2.0)
    try:
        with pytest.raises(LLMUnavailableError):
            await Text2SQLCorrespondenceFilter(chat, dbm).aprocess_row(
                row("Who lives in Leeds?"), ctx)
    finally:
        await chat.aclose()


def test_reference_keywords_are_accepted(dbm):
    op = Text2SQLCorrespondenceFilter(None, dbm)
    op.bind(input_sql_key="SQL", input_db_id_key="db_id", input_question_key="question",
            input_evidence_key="evidence")
    assert op.required_input_keys() == ["SQL", "db_id", "question"]
