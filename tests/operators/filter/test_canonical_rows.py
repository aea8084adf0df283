"""A canonical question is correct by construction: the judge and the round trip pass it
without a request and record why (verification_rule / verification_level)."""

from __future__ import annotations

import asyncio

from sqlsynth.operators.base import StepContext
from sqlsynth.operators.filter import Text2SQLCorrespondenceFilter, Text2SQLRoundTripFilter


class NoCalls:
    model = "never-asked"

    async def achat(self, messages, **params):
        raise AssertionError("a canonical question must not be sent to a model")


def test_judge_and_round_trip_skip_canonical_questions_and_say_why():
    row = {"db_id": "shop", "SQL": "SELECT 1", "question": "Show 1.", "evidence": "",
           "question_source": "canonical", "checks_passed": ["question_checks"]}
    ctx = StepContext(step_index=1, step_name="t", seed=1)
    for op in (Text2SQLCorrespondenceFilter(NoCalls(), database_manager=None),
               Text2SQLRoundTripFilter(NoCalls(), database_manager=None, num_generations=2)):
        [out] = asyncio.run(op.aprocess_row(dict(row), ctx))
        assert out["verification_level"] == "canonical"
        assert "correct by construction" in out["verification_rule"]
        assert out["verification_signals"]["question_checks"] == "passed"
        assert "judge_verdict" not in out and "roundtrip_agreement" not in out
