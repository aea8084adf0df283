"""Text2SQLCoTVotingGenerator under the old ``replace`` policy: execution-agreement voting
whose majority SQL replaces the row's (issue 10 made ``agree`` the default; see
test_cot_voting_agreement.py)."""

from __future__ import annotations

from sqlsynth.operators.base import Reject
from sqlsynth.operators.filter import Text2SQLCoTVotingGenerator


def answer(sql: str | None, words: str = "Reasoning.") -> str:
    return f"{words}\n```sql\n{sql}\n```" if sql else f"{words} No query here."


LEEDS_A = "SELECT name FROM customers WHERE city = 'Leeds'"
LEEDS_B = "SELECT c.name FROM customers AS c WHERE c.city LIKE 'Leeds'"
YORK = "SELECT name FROM customers WHERE city = 'York'"
BROKEN = "SELECT nickname FROM customers"


def row(responses, db_id="shop"):
    return {"db_id": db_id, "SQL": "SELECT 'gold'", "question": "q",
            "cot_responses": responses}


async def test_majority_result_wins_and_sql_follows_the_chosen_answer(dbm, ctx):
    responses = [answer(YORK, "first"), answer(BROKEN), answer(LEEDS_B, "second"), answer(None),
                 answer(LEEDS_A, "third")]
    out = await Text2SQLCoTVotingGenerator(dbm, policy="replace").aprocess_row(row(responses), ctx)
    graded = out[0].pop("cot_candidates")
    assert out == [{"db_id": "shop", "SQL": LEEDS_B, "question": "q",
                    "cot_reasoning": responses[2]}]
    # graded against the SQL that replaced the row's
    assert [c["verdict"] for c in graded] == ["wrong_result", "error", "correct", "no_sql",
                                              "correct"]


async def test_tie_goes_to_group_with_earliest_answer(dbm, ctx):
    responses = [answer(BROKEN), answer(YORK, "y1"), answer(LEEDS_A, "l1"),
                 answer(LEEDS_B, "l2"), answer(YORK, "y2")]
    out = await Text2SQLCoTVotingGenerator(dbm, policy="replace").aprocess_row(row(responses), ctx)
    assert out[0]["cot_reasoning"] == responses[1] and out[0]["SQL"] == YORK


async def test_ordered_queries_vote_by_order(dbm, ctx):
    asc = "SELECT name FROM customers ORDER BY name"
    desc = "SELECT name FROM customers ORDER BY name DESC"
    unordered = "SELECT name FROM customers"
    responses = [answer(asc), answer(desc), answer(desc)]
    out = await Text2SQLCoTVotingGenerator(dbm, policy="replace").aprocess_row(row(responses), ctx)
    assert out[0]["SQL"] == desc
    responses = [answer(unordered), answer(asc)]  # same rows, but one fixes the order
    out = await Text2SQLCoTVotingGenerator(dbm, policy="replace").aprocess_row(row(responses), ctx)
    assert out[0]["SQL"] == unordered


async def test_too_few_valid_candidates(dbm, ctx):
    op = Text2SQLCoTVotingGenerator(dbm, min_valid_candidates=2, policy="replace")
    out = await op.aprocess_row(row([answer(BROKEN), answer(None), answer(YORK)]), ctx)
    assert isinstance(out, Reject) and out.reason == "too_few_valid_candidates"
    assert "1 of 3" in out.detail and "runtime_error" in out.detail
    out = await Text2SQLCoTVotingGenerator(dbm, policy="replace").aprocess_row(
        row([answer(BROKEN), answer("DELETE FROM customers")]), ctx)
    assert out.reason == "too_few_valid_candidates"
    assert (await op.aprocess_row(row([answer(YORK), answer(LEEDS_A)]), ctx))[0]["SQL"] == YORK


async def test_answers_cut_at_the_row_cap_do_not_vote(db_root, ctx):
    from sqlsynth.db import DatabaseManager

    capped = DatabaseManager(db_type="sqlite", config={"root_path": str(db_root)}, max_rows=2)
    try:
        every_name = "SELECT name FROM customers"  # 3 rows: cut at 2, cannot be compared
        twice = [answer(every_name, "a1"), answer(every_name, "a2"), answer(YORK, "y")]
        out = await Text2SQLCoTVotingGenerator(capped, policy="replace").aprocess_row(row(twice), ctx)
        assert out[0]["SQL"] == YORK
        only_cut = Text2SQLCoTVotingGenerator(capped, min_valid_candidates=2,
                                              policy="replace")
        out = await only_cut.aprocess_row(row(twice), ctx)
        assert out.reason == "too_few_valid_candidates" and "truncated" in out.detail
    finally:
        capped.close()


async def test_identical_sql_is_executed_once(dbm, ctx):
    seen: list = []
    original = dbm.aexecute_many

    async def spy(pairs, **kw):
        seen.extend(pairs)
        return await original(pairs, **kw)

    dbm.aexecute_many = spy
    responses = [answer(YORK, "a"), answer(YORK, "b"), answer(LEEDS_A), answer(YORK, "c")]
    out = await Text2SQLCoTVotingGenerator(dbm, policy="replace").aprocess_row(row(responses), ctx)
    assert seen == [("shop", YORK), ("shop", LEEDS_A)]
    assert out[0]["cot_reasoning"] == responses[0]


async def test_bad_rows(dbm, ctx):
    op = Text2SQLCoTVotingGenerator(dbm, policy="replace")
    assert (await op.aprocess_row(row([answer(YORK)], db_id="atlantis"), ctx)).reason == \
        "unknown_db_id"
    assert (await op.aprocess_row(row("not a list"), ctx)).reason == "bad_cot_responses"
    assert (await op.aprocess_row(row([]), ctx)).reason == "too_few_valid_candidates"


def test_reference_keywords_are_accepted(dbm):
    op = Text2SQLCoTVotingGenerator(dbm, policy="replace")
    op.bind(input_cot_responses_key="cot_responses", input_db_id_key="db_id",
            output_cot_key="cot_reasoning")
    assert op.required_input_keys() == ["cot_responses", "db_id"]
