"""The quality metadata the verification steps leave on each kept row.

Users filter on these fields (``roundtrip_agreement`` of at least ``8/10``, ...) and ``export``
keeps or drops them. Each step that passes a row adds its name to ``checks_passed``, so a row
says which checks it went through, not only that it survived.
"""

from __future__ import annotations

from sqlsynth.operators.base import Row

#: the judge's verdict on question vs SQL ("yes": kept rows passed it)
JUDGE_VERDICT = "judge_verdict"
#: reasoning answers whose SQL returns the row's result / answers whose SQL ran, e.g. "2/3"
COT_VOTE = "cot_vote"
#: solver answers that return the row's result / answers asked for, e.g. "7/10"
ROUNDTRIP_AGREEMENT = "roundtrip_agreement"
#: names of the checks the row passed, in the order they ran
CHECKS_PASSED = "checks_passed"
#: every reasoning answer graded against the row's result ({text, sql, verdict, error, kept}):
#: the candidates preference pairs are made of
COT_CANDIDATES = "cot_candidates"
#: the row's SQL before the opt-in ``adopt_majority`` vote replaced it
ORIGINAL_SQL = "original_SQL"

#: the judge's reason when it said NO and the round trip overruled it
JUDGE_REASON = "judge_reason"
#: every verification signal the row collected (judge, round trip, neighbours, reasoning text)
VERIFICATION_SIGNALS = "verification_signals"
#: the rule that decided to keep the row, with its numbers
VERIFICATION_RULE = "verification_rule"
#: how strongly the row is verified: verified, judge_overruled or hard
VERIFICATION_LEVEL = "verification_level"

QUALITY_FIELDS = (JUDGE_VERDICT, COT_VOTE, ROUNDTRIP_AGREEMENT, CHECKS_PASSED, ORIGINAL_SQL,
                  JUDGE_REASON, VERIFICATION_SIGNALS, VERIFICATION_RULE, VERIFICATION_LEVEL,
                  COT_CANDIDATES)


def with_check(row: Row, check: str, **fields: object) -> Row:
    """A copy of ``row`` with ``check`` appended to ``checks_passed`` and ``fields`` set."""
    passed = row.get(CHECKS_PASSED)
    passed = list(passed) if isinstance(passed, list) else []
    if check not in passed:
        passed.append(check)
    return {**row, **fields, CHECKS_PASSED: passed}


def ratio(agreeing: int, total: int) -> str:
    return f"{agreeing}/{total}"
