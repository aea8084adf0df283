"""Text2SQLCoTVotingGenerator's default ``agree`` policy and the opt-in ``adopt_majority``:
the kept reasoning reaches the row's answer, and the row's SQL is never replaced silently."""

from __future__ import annotations

import pytest

from sqlsynth.operators.base import Operator, Reject
from sqlsynth.operators.filter import Text2SQLCoTVotingGenerator

LEEDS = "SELECT name FROM customers WHERE city = 'Leeds'"
LEEDS_ALIAS = "SELECT c.name FROM customers AS c WHERE c.city = 'Leeds'"
LEEDS_LIKE = "SELECT name FROM customers WHERE city LIKE 'Leeds'"
YORK = "SELECT name FROM customers WHERE city = 'York'"
BROKEN = "SELECT nickname FROM customers"


def answer(sql: str | None, words: str = "Reasoning.") -> str:
    return f"{words}\n```sql\n{sql}\n```" if sql else f"{words} No query here."


def row(responses, sql=LEEDS):
    return {"db_id": "shop", "SQL": sql, "question": "Who lives in Leeds?",
            "cot_responses": responses}


async def test_keeps_an_agreeing_answer_even_against_the_majority(dbm, ctx):
    responses = [answer(YORK, "y1"), answer(YORK, "y2"), answer(LEEDS_LIKE, "l")]
    out = await Text2SQLCoTVotingGenerator(dbm).aprocess_row(row(responses), ctx)
    graded = out[0].pop("cot_candidates")
    assert out == [{"db_id": "shop", "SQL": LEEDS, "question": "Who lives in Leeds?",
                    "cot_reasoning": responses[2], "cot_vote": "1/3",
                    "checks_passed": ["cot_agrees_with_sql"]}]
    assert [(c["verdict"], c["kept"]) for c in graded] == [
        ("wrong_result", False), ("wrong_result", False), ("correct", True)]
    assert [c["text"] for c in graded] == responses and graded[2]["sql"] == LEEDS_LIKE


async def test_candidates_are_graded_against_the_row_not_the_majority(dbm, ctx):
    # the candidates a DPO pair is made of: error and no-SQL answers keep their reason, and an
    # ORDER BY in the row's SQL makes the order part of the answer
    ordered = "SELECT name FROM customers ORDER BY name"
    responses = [answer(ordered, "asc"), answer(ordered + " DESC", "desc"), answer(BROKEN),
                 answer(None), answer("SELECT name FROM customers", "unordered")]
    out = await Text2SQLCoTVotingGenerator(dbm).aprocess_row(row(responses, ordered), ctx)
    graded = out[0]["cot_candidates"]
    assert [c["verdict"] for c in graded] == ["correct", "wrong_result", "error", "no_sql",
                                              "correct" if _same_order(dbm) else "wrong_result"]
    assert graded[2]["error"] == "runtime_error" and graded[3]["sql"] is None
    assert [c["kept"] for c in graded].count(True) == 1 and graded[0]["kept"]


def _same_order(dbm) -> bool:
    """Whether the engine happens to return the unordered query in name order."""
    plain = dbm.execute("shop", "SELECT name FROM customers").rows
    return list(plain) == sorted(plain)


async def test_among_agreeing_answers_the_vote_by_meaning_decides(dbm, ctx):
    # LEEDS and LEEDS_ALIAS mean the same query (2 votes); LEEDS_LIKE is another (1 vote)
    responses = [answer(LEEDS_LIKE, "like"), answer(LEEDS, "plain"), answer(BROKEN),
                 answer(LEEDS_ALIAS, "alias")]
    out = await Text2SQLCoTVotingGenerator(dbm).aprocess_row(row(responses), ctx)
    assert out[0]["cot_reasoning"] == responses[1]
    assert out[0]["cot_vote"] == "3/3" and out[0]["SQL"] == LEEDS


async def test_tie_among_agreeing_answers_goes_to_the_earliest(dbm, ctx):
    responses = [answer(YORK), answer(LEEDS_LIKE, "first"), answer(LEEDS, "second")]
    out = await Text2SQLCoTVotingGenerator(dbm).aprocess_row(row(responses), ctx)
    assert out[0]["cot_reasoning"] == responses[1]


async def test_no_agreeing_answer_is_rejected_with_the_majority_shown(dbm, ctx):
    responses = [answer(YORK), answer(YORK), answer("SELECT name FROM customers WHERE id = 1")]
    out = await Text2SQLCoTVotingGenerator(dbm).aprocess_row(row(responses), ctx)
    assert isinstance(out, Reject) and out.reason == "cot_disagrees_with_sql"
    assert "(2 of 3)" in out.detail and "York" in out.detail and LEEDS in out.detail


async def test_ordered_row_sql_needs_the_same_order(dbm, ctx):
    asc = "SELECT name FROM customers ORDER BY name"
    desc = "SELECT name FROM customers ORDER BY name DESC"
    out = await Text2SQLCoTVotingGenerator(dbm).aprocess_row(row([answer(desc)], sql=asc), ctx)
    assert out.reason == "cot_disagrees_with_sql"
    out = await Text2SQLCoTVotingGenerator(dbm).aprocess_row(
        row([answer(desc), answer(asc)], sql=asc), ctx)
    assert out[0]["cot_vote"] == "1/2"


async def test_broken_row_sql_is_rejected_with_its_error(dbm, ctx):
    out = await Text2SQLCoTVotingGenerator(dbm).aprocess_row(row([answer(LEEDS)], sql=BROKEN),
                                                              ctx)
    assert isinstance(out, Reject) and out.reason == "runtime_error"


class Judge(Operator):
    """A re-check that accepts only the SQL it is told to."""

    def __init__(self, accept: str) -> None:
        super().__init__()
        self.accept = accept
        self.seen: list[str] = []

    async def aprocess_row(self, row, ctx):
        self.seen.append(row["SQL"])
        if row["SQL"] == self.accept:
            return [{**row, "judge_verdict": "yes"}]
        return Reject("judged_inconsistent", "not the question's query")


async def test_adopt_majority_keeps_the_original_and_rechecks(dbm, ctx):
    responses = [answer(YORK, "y1"), answer(YORK, "y2"), answer(LEEDS, "l")]
    judge = Judge(accept=YORK)
    op = Text2SQLCoTVotingGenerator(dbm, policy="adopt_majority", recheck=[judge])
    out = await op.aprocess_row(row(responses), ctx)
    assert judge.seen == [YORK]
    assert out[0]["SQL"] == YORK and out[0]["original_SQL"] == LEEDS
    assert out[0]["cot_reasoning"] == responses[0] and out[0]["cot_vote"] == "2/3"
    assert out[0]["judge_verdict"] == "yes"
    assert out[0]["checks_passed"] == ["cot_adopted_majority"]


async def test_adopt_majority_rejects_when_the_recheck_fails(dbm, ctx):
    responses = [answer(YORK), answer(YORK), answer(LEEDS)]
    op = Text2SQLCoTVotingGenerator(dbm, policy="adopt_majority", recheck=[Judge(accept=LEEDS)])
    out = await op.aprocess_row(row(responses), ctx)
    assert isinstance(out, Reject) and out.reason == "adopted_sql_judged_inconsistent"


async def test_adopt_majority_that_agrees_changes_nothing(dbm, ctx):
    judge = Judge(accept=YORK)
    op = Text2SQLCoTVotingGenerator(dbm, policy="adopt_majority", recheck=[judge])
    out = await op.aprocess_row(row([answer(LEEDS_ALIAS), answer(YORK)]), ctx)
    assert out[0]["SQL"] == LEEDS and "original_SQL" not in out[0] and judge.seen == []


def test_unknown_policy_is_an_error(dbm):
    with pytest.raises(ValueError, match="adopt_majority"):
        Text2SQLCoTVotingGenerator(dbm, policy="majority")


def test_agree_policy_needs_the_row_sql(dbm):
    assert Text2SQLCoTVotingGenerator(dbm).required_input_keys() == \
        ["cot_responses", "db_id", "SQL"]


async def test_reasoning_whose_text_contradicts_its_sql_is_not_kept(dbm, ctx):
    responses = [answer(LEEDS, "Look in the orders table."),
                 answer(LEEDS_ALIAS, "Customers living in Leeds.")]
    op = Text2SQLCoTVotingGenerator(dbm, check_text=True)
    out = await op.aprocess_row(row(responses), ctx)
    assert out[0]["cot_reasoning"] == responses[1]
    assert out[0]["verification_signals"] == {"reasoning_text": "1/2"}
    alone = await op.aprocess_row(row(responses[:1]), ctx)
    assert isinstance(alone, Reject) and alone.reason == "cot_text_contradicts_sql"


async def test_reasoning_sql_that_agrees_only_on_this_database_is_not_kept(dbm, ctx):
    from sqlsynth.db.neighbours import NeighbourDatabases

    bounded = "SELECT name FROM customers WHERE city = 'Leeds' AND id <= 3"
    neighbours = NeighbourDatabases(dbm)
    op = Text2SQLCoTVotingGenerator(dbm, neighbours=neighbours)
    try:
        out = await op.aprocess_row(row([answer(bounded), answer(LEEDS_ALIAS)]), ctx)
        assert out[0]["cot_reasoning"] == answer(LEEDS_ALIAS)
        assert out[0]["verification_signals"] == {"neighbours": "0/1"}  # the alias: same key
        alone = await op.aprocess_row(row([answer(bounded)]), ctx)
        assert isinstance(alone, Reject) and alone.reason == "cot_differs_on_neighbours"
    finally:
        await op.aclose()
