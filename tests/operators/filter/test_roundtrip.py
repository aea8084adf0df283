"""Text2SQLRoundTripFilter: a solver that never sees the row's SQL must get back to its result;
its answers are shared with SQLExecutionClassifier through a SharedSolver."""

from __future__ import annotations

import asyncio

import pytest

from sqlsynth.llm.errors import LLMError
from sqlsynth.operators.base import Reject
from sqlsynth.operators.eval import SharedSolver, SQLExecutionClassifier
from sqlsynth.operators.filter import Text2SQLRoundTripFilter
from sqlsynth.operators.filter.roundtrip import default_min_agree

GOLD = "SELECT name FROM customers WHERE city = 'Leeds'"
SAME = "SELECT c.name FROM customers AS c WHERE c.city LIKE 'leeds'"
WRONG = "SELECT name FROM customers"


class ListSolver:
    def __init__(self, candidates, error=None):
        self.candidates = candidates
        self.error = error
        self.calls = 0

    async def agenerate_sql(self, *, db_id, question, evidence, prompt, n):
        self.calls += 1
        await asyncio.sleep(0)
        if self.error:
            raise self.error
        return list(self.candidates[:n])


def row(sql=GOLD):
    return {"db_id": "shop", "SQL": sql, "question": "Who lives in Leeds?", "evidence": "",
            "prompt": "P"}


async def test_verified_rows_record_the_agreement(dbm, ctx):
    solver = ListSolver([SAME] * 7 + [WRONG, None, "SELECT nickname FROM customers"])
    op = Text2SQLRoundTripFilter(None, dbm, num_generations=10, solver=solver)
    [out] = await op.aprocess_row(row(), ctx)
    assert out["roundtrip_agreement"] == "7/10" and out["checks_passed"] == ["roundtrip"]
    assert out["verification_level"] == "verified"
    assert out["verification_signals"] == {"roundtrip": "7/10", "roundtrip_competing": "1/10"}
    assert out["verification_rule"].startswith("confirmed: 7/10")


async def test_answers_converging_elsewhere_reject_with_the_other_answer(dbm, ctx):
    solver = ListSolver([SAME, SAME] + [WRONG] * 8)
    out = await Text2SQLRoundTripFilter(None, dbm, num_generations=10, solver=solver) \
        .aprocess_row(row(), ctx)
    assert isinstance(out, Reject) and out.reason == "roundtrip_converges_elsewhere"
    assert "8/10" in out.detail and "2/10" in out.detail and WRONG in out.detail
    # the 0.2 rule stays available
    op = Text2SQLRoundTripFilter(None, dbm, num_generations=10, solver=solver,
                                 policy="agreement")
    out = await op.aprocess_row(row(), ctx)
    assert isinstance(out, Reject) and out.reason == "roundtrip_disagrees"
    assert "2/10" in out.detail and "need 3" in out.detail
    op = Text2SQLRoundTripFilter(None, dbm, num_generations=10, min_agree=2, solver=solver,
                                 policy="agreement")
    assert (await op.aprocess_row(row(), ctx))[0]["roundtrip_agreement"] == "2/10"


# scattered wrong answers, each returning another result: a hard question, not a wrong one
SCATTERED = ["SELECT name FROM customers WHERE city = 'York'", "SELECT city FROM customers",
             "SELECT id FROM customers", "SELECT amount FROM orders", "SELECT 1",
             "SELECT name FROM customers WHERE id = 2", "SELECT id FROM orders",
             "SELECT COUNT(*) FROM orders", "SELECT MAX(amount) FROM orders",
             "SELECT name FROM customers ORDER BY name LIMIT 1"]


@pytest.mark.parametrize("agreeing", [0, 1, 2])
async def test_scattered_answers_keep_a_hard_row_and_record_it(dbm, ctx, agreeing):
    solver = ListSolver([SAME] * agreeing + SCATTERED[:10 - agreeing])
    [out] = await Text2SQLRoundTripFilter(None, dbm, num_generations=10, solver=solver) \
        .aprocess_row(row(), ctx)
    assert out["roundtrip_agreement"] == f"{agreeing}/10"
    assert out["verification_level"] == "hard" and "roundtrip" not in out.get("checks_passed", [])
    assert out["verification_rule"].startswith("hard:")


@pytest.mark.parametrize(("agreeing", "competing", "kept"), [
    (0, 3, False), (2, 3, False), (3, 3, True), (1, 2, True), (4, 6, False), (6, 4, True)])
async def test_a_competing_group_must_be_clear_and_larger(dbm, ctx, agreeing, competing, kept):
    answers = [SAME] * agreeing + [WRONG] * competing
    answers += SCATTERED[:10 - len(answers)]
    out = await Text2SQLRoundTripFilter(None, dbm, num_generations=10,
                                        solver=ListSolver(answers)).aprocess_row(row(), ctx)
    assert (not isinstance(out, Reject)) == kept


async def test_a_judges_no_is_overruled_only_by_a_confirming_round_trip(dbm, ctx):
    judged = {**row(), "judge_verdict": "no", "judge_reason": "asks for the city"}
    op = Text2SQLRoundTripFilter(None, dbm, num_generations=10,
                                 solver=ListSolver([SAME] * 10))
    [out] = await op.aprocess_row(judged, ctx)
    assert out["verification_level"] == "judge_overruled"
    assert out["verification_signals"]["judge"] == "no"
    op = Text2SQLRoundTripFilter(None, dbm, num_generations=10,
                                 solver=ListSolver([SAME] + SCATTERED[:9]))
    out = await op.aprocess_row(judged, ctx)
    assert isinstance(out, Reject) and out.reason == "judged_inconsistent"
    assert "asks for the city" in out.detail and "1/10" in out.detail


async def test_the_rule_scales_with_the_number_of_answers(dbm, ctx):
    # 20 answers: a competing group needs 5 (a quarter), 4 scattered-looking ones are not it
    answers = [WRONG] * 4 + SCATTERED + SCATTERED[:6]
    [out] = await Text2SQLRoundTripFilter(None, dbm, num_generations=20,
                                          solver=ListSolver(answers)).aprocess_row(row(), ctx)
    assert out["verification_level"] == "hard"
    answers = [WRONG] * 5 + SCATTERED + SCATTERED[:5]
    out = await Text2SQLRoundTripFilter(None, dbm, num_generations=20,
                                        solver=ListSolver(answers)).aprocess_row(row(), ctx)
    assert isinstance(out, Reject) and out.reason == "roundtrip_converges_elsewhere"


@pytest.mark.parametrize(("k", "expected"), [(1, 1), (3, 1), (4, 1), (5, 2), (10, 3), (20, 5)])
def test_default_min_agree_is_a_quarter(k, expected):
    assert default_min_agree(k) == expected


def test_bad_sizes_are_errors(dbm):
    with pytest.raises(ValueError):
        Text2SQLRoundTripFilter(None, dbm, num_generations=4, min_agree=5, solver=ListSolver([]))
    with pytest.raises(ValueError):
        Text2SQLRoundTripFilter(None, dbm, num_generations=0, solver=ListSolver([]))
    with pytest.raises(ValueError):
        Text2SQLRoundTripFilter(None, dbm)


async def test_bad_rows(dbm, ctx, db_root):
    from sqlsynth.db import DatabaseManager

    op = Text2SQLRoundTripFilter(None, dbm, num_generations=2, solver=ListSolver([GOLD] * 2))
    assert (await op.aprocess_row(row("SELECT nickname FROM customers"), ctx)).reason == \
        "runtime_error"
    assert (await op.aprocess_row({**row(), "question": ""}, ctx)).reason == "missing_field"
    failing = Text2SQLRoundTripFilter(None, dbm, num_generations=2,
                                      solver=ListSolver([], error=LLMError("boom")))
    assert (await failing.aprocess_row(row(), ctx)).reason == "llm_error"
    capped = DatabaseManager(db_type="sqlite", config={"root_path": str(db_root)}, max_rows=1)
    try:
        op = Text2SQLRoundTripFilter(None, capped, num_generations=2, solver=ListSolver([GOLD]))
        assert (await op.aprocess_row(row(), ctx)).reason == "sql_not_comparable"
    finally:
        capped.close()


async def test_shared_solver_pays_once_for_both_operators(dbm, ctx):
    inner = ListSolver([SAME] * 3 + [WRONG])
    shared = SharedSolver(inner)
    verifier = Text2SQLRoundTripFilter(None, dbm, num_generations=4, solver=shared)
    classifier = SQLExecutionClassifier(None, dbm, num_generations=4,
                                        difficulty_thresholds=[1, 2, 3],
                                        difficulty_labels=["a", "b", "c", "d"], solver=shared)
    verified = await verifier.aprocess_row(row(), ctx)
    labelled = await classifier.aprocess_row(verified[0], ctx)
    assert inner.calls == 1
    assert labelled[0]["roundtrip_agreement"] == "3/4"
    assert labelled[0]["sql_execution_difficulty"] == "c"  # the same 3 of 4
    # answers are handed out once each: a third reader asks again
    await classifier.aprocess_row(verified[0], ctx)
    assert inner.calls == 2


async def test_shared_solver_concurrent_readers_share_one_call(dbm, ctx):
    inner = ListSolver([SAME] * 2)
    shared = SharedSolver(inner)
    args = {"db_id": "shop", "question": "q", "evidence": "", "prompt": "P", "n": 2}
    first, second = await asyncio.gather(shared.agenerate_sql(**args),
                                         shared.agenerate_sql(**args))
    assert first == second == [SAME, SAME] and inner.calls == 1
    assert shared._answers == {}  # both readers served: nothing left behind


async def test_shared_solver_forgets_the_oldest_beyond_its_bound():
    shared = SharedSolver(ListSolver(["SELECT 1"]), max_entries=2)
    for i in range(3):
        await shared.agenerate_sql(db_id="d", question=str(i), evidence="", prompt="", n=1)
    assert len(shared._answers) == 2
