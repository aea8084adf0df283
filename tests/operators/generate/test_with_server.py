"""The generation operators over real HTTP: the scripted OpenAI-compatible server, the real
client (with its cache and ``n`` handling) and a real SQLite database."""

from __future__ import annotations

import re

from sqlsynth.operators.base import Reject
from sqlsynth.operators.generate import (
    SQLGenerator,
    SQLVariationGenerator,
    Text2SQLCoTGenerator,
    Text2SQLQuestionGenerator,
)


def last_user(body: dict) -> str:
    return body["messages"][-1]["content"]


def sql_writer(body: dict) -> str:
    text = last_user(body)
    table = "animals" if "CREATE TABLE animals" in text else "customers"
    level = re.search(r"Complexity: ([A-Za-z ]+?) \(", text).group(1)
    return f"```sql\nSELECT COUNT(*) FROM {table} -- {level}\n```"


async def test_sql_generator_end_to_end(dbm, ctx, openai_server, scripted_chat):
    openai_server.responder = sql_writer
    op = SQLGenerator(scripted_chat, dbm, generate_num=2)
    outs = [await op.aprocess_row(r, ctx) for r in op.plan_sources(ctx)]
    assert [o[0]["db_id"] for o in outs] == ["shop", "shop", "zoo", "zoo"]
    for (row,) in outs:
        table = "animals" if row["db_id"] == "zoo" else "customers"
        assert row["SQL"] == f"SELECT COUNT(*) FROM {table} -- {row['sql_complexity_type']}"
    bodies = [r["body"] for r in openai_server.chat_requests]
    assert len(bodies) == 4 and all(b["temperature"] > 0 for b in bodies)
    assert len({b["seed"] for b in bodies}) == 4
    # a rerun is answered from the client's cache: same prompts, same seeds
    again = [await op.aprocess_row(r, ctx) for r in op.plan_sources(ctx)]
    assert again == outs and len(openai_server.chat_requests) == 4


async def test_question_generator_picks_consensus(
    dbm, ctx, openai_server, scripted_chat, scripted_embeddings
):
    candidates = [
        "Which customers live in the city of Leeds?",
        "List the customers who live in Leeds.",
        "Which customers are living in the city of Leeds?",
        "Show me purple elephants dancing at midnight",
    ]
    openai_server.responder = lambda body: [
        f"<question>{q}</question>\n<evidence>Leeds is customers.city</evidence>"
        for q in candidates
    ]
    op = Text2SQLQuestionGenerator(
        scripted_chat, scripted_embeddings, dbm, question_candidates_num=4
    )
    row = {"db_id": "shop", "SQL": "SELECT name FROM customers WHERE city = 'Leeds'"}
    (out,) = await op.aprocess_row(row, ctx)
    assert out["question"] in candidates[:3]
    assert out["evidence"] == "Leeds is customers.city"
    (chat,) = openai_server.chat_requests
    assert chat["body"]["n"] == 4
    (embed,) = openai_server.embedding_requests
    assert embed["body"]["input"] == candidates


async def test_cot_and_variation_generators(dbm, ctx, openai_server, scripted_chat):
    def responder(body: dict) -> list[str] | str:
        text = last_user(body)
        if "Hint, a correct query" in text:
            return [
                f"Step {i}: filter customers by city.\n```sql\nSELECT name FROM customers\n```"
                for i in range(body.get("n", 1))
            ]
        kind = re.search(r"Kind: (.+?) - ", text).group(1)
        return f"```sql\nSELECT name FROM customers /* {kind} */\n```"

    openai_server.responder = responder
    row = {"db_id": "shop", "SQL": "SELECT name FROM customers", "question": "Names?"}
    cot = Text2SQLCoTGenerator(scripted_chat, dbm, sampling_num=3)
    (out,) = await cot.aprocess_row(row, ctx)
    assert [c.split(":")[0] for c in out["cot_responses"]] == ["Step 0", "Step 1", "Step 2"]

    var = SQLVariationGenerator(scripted_chat, dbm, num_variations=3)
    outs = await var.aprocess_row({"db_id": "shop", "SQL": "SELECT name FROM customers"}, ctx)
    assert not isinstance(outs, Reject) and len(outs) == 4
    for r in outs[1:]:
        assert r["SQL"].endswith(f"/* {r['sql_variation_type']} */")
