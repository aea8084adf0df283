"""The engine end to end against a scripted OpenAI-compatible server and the example DBs."""

from __future__ import annotations

import json
import sqlite3

import pytest

from sqlsynth.engine import ContentAwareEngine, KnowledgeTable
from tests.engine.conftest import StageScript, chat_client, embedding_client, sha256

CALIFORNIA = {
    "content_keywords": [
        {"keyword": "California", "table": "customers", "columns": ["state", "city", "zip"]},
        {"keyword": "women", "table": "shoppers", "columns": ["gender"]},
    ],
    "schema_keywords": ["customers", "how many"],
}
GOOD_SQL = "SELECT COUNT(*) FROM customers WHERE state = 'CA'"


def make_engine(llm, dbm, tmp_path, **kw) -> ContentAwareEngine:
    return ContentAwareEngine(llm, dbm, knowledge_dir=tmp_path / "knowledge", **kw)


@pytest.mark.parametrize("use_index", [True, False])
async def test_probes_find_the_stored_code_and_generation_uses_it(
    dbm, tmp_path, scripted, use_index
):
    script = StageScript(CALIFORNIA, {"California": ["CA", "Calif.", "San"]}, [GOOD_SQL])
    server = scripted(script)
    engine = make_engine(chat_client(server), dbm, tmp_path, use_value_index=use_index)
    answer = await engine.aanswer("How many customers live in California?", "retail_orders")
    await engine.aclose()

    assert answer.status == "ok" and answer.sql == GOOD_SQL
    assert answer.rows[0][0] > 0
    trace = answer.trace
    # unknown table and column were dropped with a reason
    reasons = [d["reason"] for d in trace.dropped]
    assert any("unknown table 'shoppers'" in r for r in reasons)
    assert any("unknown column 'zip'" in r for r in reasons)
    assert trace.content_keywords == [
        {"keyword": "California", "table": "customers", "columns": ["state", "city"]}
    ]
    # every (column, value, skeleton) combination was probed, with quoted identifiers
    assert len(trace.probes) == 2 * 4 * 2  # columns x (3 proposals + keyword) x skeletons
    by_sql = {p["sql"]: p for p in trace.probes}
    exact = by_sql["SELECT DISTINCT \"state\" FROM \"customers\" WHERE \"state\" = 'CA'"]
    assert exact["outcome"] == "unique" and exact["values"] == ["CA"]
    assert exact["source"] == ("index" if use_index else "live")
    assert by_sql["SELECT DISTINCT \"city\" FROM \"customers\" WHERE \"city\" LIKE '%San%'"][
        "outcome"] == "multiple"
    assert by_sql["SELECT DISTINCT \"state\" FROM \"customers\" WHERE \"state\" = 'Calif.'"][
        "outcome"] == "none"
    discarded = {d["sql"]: d["reason"] for d in trace.knowledge_discarded if "sql" in d}
    assert "several stored values" in discarded.values()
    assert "no stored value" in discarded.values()
    # the unique value became knowledge, persisted and chosen, and reached the SQL prompt
    assert {"table": "customers", "column": "state", "value": "CA"}.items() <= \
        trace.knowledge_chosen[0]["entry"].items()
    stored = KnowledgeTable(tmp_path / "knowledge", "retail_orders").entries()
    assert any(e.column == "state" and e.value == "CA" for e in stored)
    generate_prompt = script.prompts["generate"][0][-1]["content"]
    assert "\"California\" means customers.state = 'CA'" in generate_prompt
    assert "Foreign keys:" in generate_prompt and "orders.customer_id -> customers" in \
        generate_prompt
    assert script.calls["revise"] == 0
    json.loads(answer.to_json())  # the whole trace is JSON


async def test_index_and_live_probes_agree(dbm, tmp_path, scripted):
    results = {}
    for use_index in (True, False):
        script = StageScript(CALIFORNIA, {"California": ["CA", "ca", "San", "o", "%"]}, [GOOD_SQL])
        engine = make_engine(chat_client(scripted(script)), dbm, tmp_path / str(use_index),
                             use_value_index=use_index)
        answer = await engine.aanswer("How many customers live in California?", "retail_orders")
        await engine.aclose()
        results[use_index] = {p["sql"]: (p["outcome"], sorted(p["values"]))
                              for p in answer.trace.probes}
        assert {p["source"] for p in answer.trace.probes} == {"index" if use_index else "live"}
    assert results[True] == results[False]


async def test_revision_stops_at_first_success(dbm, tmp_path, scripted):
    replies = [
        "SELECT COUNT(*) FROM customers WHERE province = 'CA'",  # no such column
        "SELECT COUNT(*) FROM customers WHERE state = 'California'",  # runs, no rows? -> count 0
        "SELECT customer_id FROM customers WHERE state = 'California'",  # empty
        GOOD_SQL,
        "SELECT 'never asked'",
    ]
    script = StageScript({"content_keywords": []}, {}, replies)
    server = scripted(script)
    engine = make_engine(chat_client(server), dbm, tmp_path, max_revisions=5)
    answer = await engine.aanswer("How many customers live in California?", "retail_orders")
    outcomes = [a["outcome"] for a in answer.trace.attempts]
    # COUNT(*) of nothing is one row (0): a success by the engine's rule, so it stops there
    assert outcomes == ["runtime_error", "ok"]
    assert answer.status == "ok" and answer.sql == replies[1]
    assert script.calls["revise"] == 1
    revise_prompt = script.prompts["revise"][0][-1]["content"]
    assert "province" in revise_prompt and "OperationalError" in revise_prompt


async def test_empty_results_are_revised_then_success(dbm, tmp_path, scripted):
    replies = [
        "SELECT customer_id FROM customers WHERE state = 'California'",
        "SELECT customer_id FROM customers WHERE state = 'CA'",
    ]
    script = StageScript({"content_keywords": []}, {}, replies)
    engine = make_engine(chat_client(scripted(script)), dbm, tmp_path)
    answer = await engine.aanswer("Which customers live in California?", "retail_orders")
    assert [a["outcome"] for a in answer.trace.attempts] == ["empty", "ok"]
    assert "returned no rows" in script.prompts["revise"][0][-1]["content"]
    assert answer.status == "ok" and len(answer.rows) > 1


async def test_revision_gives_up_after_the_round_limit(dbm, tmp_path, scripted):
    script = StageScript({"content_keywords": []}, {}, ["SELECT nope FROM customers"])
    engine = make_engine(chat_client(scripted(script)), dbm, tmp_path, max_revisions=2)
    answer = await engine.aanswer("Anything?", "retail_orders")
    assert len(answer.trace.attempts) == 3
    assert script.calls["generate"] == 1 and script.calls["revise"] == 2
    assert answer.status == "runtime_error"


async def test_empty_answer_is_kept_over_a_later_error(dbm, tmp_path, scripted):
    replies = ["SELECT customer_id FROM customers WHERE state = 'ZZ'", "SELECT broken("]
    script = StageScript({"content_keywords": []}, {}, replies)
    engine = make_engine(chat_client(scripted(script)), dbm, tmp_path, max_revisions=1)
    answer = await engine.aanswer("Anything?", "retail_orders")
    assert answer.status == "empty" and answer.sql == replies[0]


async def test_hostile_sql_is_refused_and_revised(dbm, db_root, tmp_path, scripted):
    db_file = db_root / "retail_orders" / "retail_orders.sqlite"
    before = sha256(db_file)
    replies = [
        "DROP TABLE customers",
        "DELETE FROM customers; SELECT 1",
        "SELECT * FROM customers; UPDATE customers SET state = 'XX'",
        "ATTACH DATABASE 'evil.sqlite' AS evil",
        GOOD_SQL,
    ]
    script = StageScript({"content_keywords": []}, {}, replies)
    engine = make_engine(chat_client(scripted(script)), dbm, tmp_path, max_revisions=4)
    answer = await engine.aanswer("How many customers live in California?", "retail_orders")
    statuses = [a["status"] for a in answer.trace.attempts]
    assert statuses[:4] == ["forbidden"] * 4 and statuses[4] == "ok"
    assert answer.status == "ok"
    assert sha256(db_file) == before
    with sqlite3.connect(db_file) as conn:
        assert conn.execute("SELECT COUNT(*) FROM customers WHERE state = 'XX'").fetchone()[0] == 0


async def test_user_knowledge_is_chosen_by_embedding_similarity(dbm, tmp_path, scripted):
    mappings = tmp_path / "mappings.csv"
    mappings.write_text(
        "keyword,table,column,value,note\n"
        "GDP growth rate,indicators,roworder,5,use roworder instead of the name\n"
        "jobless rate,indicators,roworder,7,\n",
        encoding="utf-8",
    )
    KnowledgeTable(tmp_path / "knowledge", "regional_economy").import_file(mappings)
    keywords = {"content_keywords": [
        {"keyword": "GDP growth rate", "table": "indicators", "columns": ["indicator_name"]},
        {"keyword": "first quarter of 2023", "table": "quarterly_reports",
         "columns": ["reportperiod"]},
    ]}
    variants = {"GDP growth rate": ["GDP growth", "growth"],
                "first quarter of 2023": ["2023Q1", "2023-Q1"]}
    sql = ("SELECT region_code, value FROM quarterly_reports "
           "WHERE roworder = 5 AND reportperiod = '2023Q1'")
    script = StageScript(keywords, variants, [sql])
    server = scripted(script)
    engine = make_engine(chat_client(server), dbm, tmp_path,
                         embeddings=embedding_client(server))
    answer = await engine.aanswer(
        "What was the GDP growth rate of each region in the first quarter of 2023?",
        "regional_economy",
    )
    chosen = {c["keyword"]: c for c in answer.trace.knowledge_chosen}
    gdp = chosen["GDP growth rate"]
    assert gdp["entry"]["source"] == "user" and gdp["entry"]["value"] == 5
    assert gdp["method"].startswith("embedding")
    assert chosen["first quarter of 2023"]["entry"]["value"] == "2023Q1"
    prompt = script.prompts["generate"][0][-1]["content"]
    assert '"GDP growth rate" means indicators.roworder = 5' in prompt
    assert "use roworder instead of the name" in prompt
    assert server.embedding_requests  # similarities came from the embedding endpoint
    assert answer.status == "ok"


async def test_knowledge_persists_across_engines_without_duplicates(dbm, tmp_path, scripted):
    for _ in range(2):
        script = StageScript(CALIFORNIA, {"California": ["CA"]}, [GOOD_SQL])
        engine = make_engine(chat_client(scripted(script)), dbm, tmp_path)
        answer = await engine.aanswer("How many customers live in California?", "retail_orders")
        await engine.aclose()
    # the second run found the same value again but added nothing new
    assert answer.trace.knowledge_added == []
    lines = (tmp_path / "knowledge" / "retail_orders.jsonl").read_text().splitlines()
    assert len(lines) == len({json.dumps(json.loads(line), sort_keys=True) for line in lines})
    assert any(json.loads(line)["value"] == "CA" for line in lines)


async def test_unparseable_keyword_reply_still_answers(dbm, tmp_path, scripted):
    script = StageScript("I think the keyword is California.", {}, [GOOD_SQL])
    engine = make_engine(chat_client(scripted(script)), dbm, tmp_path)
    answer = await engine.aanswer("How many customers live in California?", "retail_orders")
    assert answer.status == "ok"
    assert any("keyword extraction" in e for e in answer.trace.errors)
    assert answer.trace.probes == []


async def test_unknown_database(dbm, tmp_path, scripted):
    script = StageScript(CALIFORNIA)
    engine = make_engine(chat_client(scripted(script)), dbm, tmp_path)
    answer = await engine.aanswer("Anything?", "no_such_db")
    assert answer.status == "unknown_db" and answer.sql is None
    assert sum(script.calls.values()) == 0


async def test_solver_protocol_returns_n_candidates(dbm, tmp_path, scripted):
    script = StageScript(CALIFORNIA, {"California": ["CA"]}, [GOOD_SQL])
    engine = make_engine(chat_client(scripted(script)), dbm, tmp_path)
    out = await engine.agenerate_sql(db_id="retail_orders", question="How many in California?",
                                     evidence="", prompt="unused", n=3)
    assert out == [GOOD_SQL] * 3
    assert script.calls["keywords"] == 1 and script.calls["generate"] == 1


async def test_untyped_sqlite_columns_get_equality_probes(tmp_path, scripted):
    """SQLite keeps text as text in columns declared without a type (BLOB affinity), so the
    `=` skeleton must run there too, or a unique stored value is never confirmed."""
    from sqlsynth.db import DatabaseManager

    folder = tmp_path / "dbs" / "legacy"
    folder.mkdir(parents=True)
    with sqlite3.connect(folder / "legacy.sqlite") as conn:
        conn.execute("CREATE TABLE people (name, state, n INT)")
        conn.executemany("INSERT INTO people VALUES (?, ?, ?)",
                         [("Ann", "CA", 1), ("Bob", "NY", 2), ("Cy", "CAL", 3)])
    keywords = {"content_keywords": [
        {"keyword": "California", "table": "people", "columns": ["state", "n"]}]}
    script = StageScript(keywords, {"California": ["CA"]},
                         ["SELECT name FROM people WHERE state = 'CA'"])
    dbm = DatabaseManager.from_path_or_url(str(tmp_path / "dbs"))
    engine = make_engine(chat_client(scripted(script)), dbm, tmp_path)
    answer = await engine.aanswer("Who lives in California?", "legacy")
    await engine.aclose()
    dbm.close()
    probes = {(p["column"], p["value"], p["skeleton"]): p for p in answer.trace.probes}
    exact = probes[("state", "CA", "exact")]
    assert exact["sql"] == "SELECT DISTINCT \"state\" FROM \"people\" WHERE \"state\" = 'CA'"
    assert (exact["outcome"], exact["values"]) == ("unique", ["CA"])
    assert probes[("state", "CA", "like")]["outcome"] == "multiple"  # 'CA' and 'CAL'
    assert probes[("n", "CA", "exact")]["status"] == "skipped"  # numeric column: pointless
    assert answer.trace.knowledge_chosen[0]["entry"]["value"] == "CA"


async def test_chat_only_endpoint_aligns_by_trigrams(dbm, tmp_path, scripted):
    """An endpoint without /embeddings (common for chat servers) must not stop the engine."""
    from sqlsynth.llm.openai_client import OpenAIEmbeddings

    script = StageScript(CALIFORNIA, {"California": ["CA"]}, [GOOD_SQL])
    server = scripted(script)
    missing = OpenAIEmbeddings("none", base_url=server.base_url.replace("/v1", "/nowhere"),
                               api_key="test-key", cache=None)
    engine = make_engine(chat_client(server), dbm, tmp_path, embeddings=missing)
    for _ in range(2):
        answer = await engine.aanswer("How many customers live in California?", "retail_orders")
        assert answer.status == "ok" and answer.sql == GOOD_SQL
        assert answer.trace.knowledge_chosen[0]["method"] == "char-trigram"
        assert answer.trace.knowledge_chosen[0]["entry"]["value"] == "CA"
        assert any(e.startswith("embeddings: LLMUnavailableError") for e in answer.trace.errors)
    await engine.aclose()
    assert len(server.requests_to("/embeddings")) == 1  # not asked again after it failed


def test_sync_answer_closes_the_clients_of_its_loop(dbm, tmp_path, scripted):
    """`answer` runs its own event loop: its HTTP clients must not outlive it."""
    script = StageScript(CALIFORNIA, {"California": ["CA"]}, [GOOD_SQL])
    engine = make_engine(chat_client(scripted(script)), dbm, tmp_path)
    assert engine.answer("How many customers in California?", "retail_orders").sql == GOOD_SQL
    assert engine.llm.connection._states == {}
    assert engine.answer("And again?", "retail_orders").sql == GOOD_SQL  # a fresh client
