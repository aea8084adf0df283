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
    out = await op.aprocess_row(row(), ctx)
    assert out == [{**row(), "roundtrip_agreement": "7/10", "checks_passed": ["roundtrip"]}]


async def test_too_few_agreeing_answers_reject_with_the_other_answer(dbm, ctx):
    solver = ListSolver([SAME, SAME] + [WRONG] * 8)
    out = await Text2SQLRoundTripFilter(None, dbm, num_generations=10, solver=solver) \
        .aprocess_row(row(), ctx)
    assert isinstance(out, Reject) and out.reason == "roundtrip_disagrees"
    assert "2/10" in out.detail and "need 3" in out.detail and WRONG in out.detail
    op = Text2SQLRoundTripFilter(None, dbm, num_generations=10, min_agree=2, solver=solver)
    assert (await op.aprocess_row(row(), ctx))[0]["roundtrip_agreement"] == "2/10"


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
