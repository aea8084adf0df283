"""One decision per row from every verification signal: reject on evidence of a mismatch.

A solver that cannot reproduce a row's result is no evidence that the row is wrong: a hard but
right question scatters the solver's answers over many results, and dropping those rows drops
the hardest rows of a training set first. Evidence of a mismatch is different: the solver's
answers *converge* on another result (a clear group of answers agreeing with each other and
not with the row), or a judge says NO and the round trip does not overrule it. ``decide``
states the rule; ``Text2SQLRoundTripFilter`` applies it and records on the row every signal
(``verification_signals``), the rule that decided (``verification_rule``) and how strongly the
row is verified (``verification_level``).

The default policy, ``evidence`` (n answers asked, ``a`` reaching the row's result, ``c`` the
largest group of answers returning one same other result):

1. ``roundtrip_converges_elsewhere`` when ``c >= max(converge_min, ceil(converge_share * n))``
   and ``c > a``: the question leads the solver somewhere else, again and again.
2. ``judged_inconsistent`` when the judge said NO and the round trip does not confirm the row
   (``a >= min_agree`` and ``a > c`` overrules it: a judge's NO is one signal, not a veto).
3. Kept, level ``verified``: ``a >= min_agree`` and ``a >= c`` (the round trip confirms it).
4. Kept, level ``hard``: the answers scatter (no competing group): a hard question. Its
   ``roundtrip_agreement`` says how hard; the reasoning step still checks it.

The alternative ``agreement`` is the 0.2 rule (reject whenever ``a < min_agree``): precise, but
it drops every right question a solver answers correctly at most ``min_agree - 1`` times in n.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlsynth.operators.base import Row
from sqlsynth.operators.quality import (
    VERIFICATION_LEVEL,
    VERIFICATION_RULE,
    VERIFICATION_SIGNALS,
)

#: reject on convergence elsewhere / a judge's unrefuted NO (default); ``agreement``: the 0.2 rule
ROUNDTRIP_POLICIES = ("evidence", "agreement")

#: kept rows' verification levels, strongest first
LEVEL_VERIFIED = "verified"
LEVEL_JUDGE_OVERRULED = "judge_overruled"
LEVEL_HARD = "hard"
#: a canonical question, written from the SQL: correct by construction, not asked of a model
LEVEL_CANONICAL = "canonical"

#: where the row's question came from (``CanonicalQuestionGenerator`` writes ``canonical``,
#: ``Text2SQLQuestionParaphraser`` ``paraphrase`` when it kept a verified rewrite)
QUESTION_SOURCE = "question_source"
CANONICAL_RULE = ("canonical: the question was written from the SQL, correct by "
                  "construction; the judge and the round trip are not asked (the deterministic "
                  "question checks ran)")



@dataclass(frozen=True)
class RoundTripEvidence:
    """What the solver's answers say about a row: counts out of ``asked``."""

    asked: int
    agreeing: int
    #: size of the largest group of answers that return one same result other than the row's
    competing: int
    #: one SQL of that group (for the reject's detail)
    competing_sql: str | None = None

    @property
    def agreement(self) -> str:
        return f"{self.agreeing}/{self.asked}"

    @property
    def competition(self) -> str:
        return f"{self.competing}/{self.asked}"


@dataclass(frozen=True)
class Decision:
    keep: bool
    #: the reject reason (None when kept)
    reason: str | None
    #: the rule that decided, in words, with the numbers it used
    rule: str
    #: the kept row's verification level (None when rejected)
    level: str | None


@dataclass(frozen=True)
class DecisionPolicy:
    """The numbers of the rule (see the module docstring)."""

    policy: str = "evidence"
    min_agree: int = 3
    converge_min: int = 3
    converge_share: float = 0.25

    def __post_init__(self) -> None:
        if self.policy not in ROUNDTRIP_POLICIES:
            raise ValueError(f"unknown round-trip policy {self.policy!r}; choose one of "
                             f"{', '.join(ROUNDTRIP_POLICIES)}")
        if self.min_agree < 1 or self.converge_min < 1:
            raise ValueError("min_agree and converge_min must be >= 1")
        if not 0.0 <= self.converge_share <= 1.0:
            raise ValueError(f"converge_share must be in [0, 1], got {self.converge_share}")

    def converge_threshold(self, asked: int) -> int:
        return max(self.converge_min, math.ceil(self.converge_share * asked))


def decide(evidence: RoundTripEvidence, judge: str | None, policy: DecisionPolicy) -> Decision:
    """The row's fate from the round trip and the judge's verdict (``yes``/``no``/None)."""
    a, c, n = evidence.agreeing, evidence.competing, evidence.asked
    confirmed = a >= policy.min_agree and a >= c
    if policy.policy == "agreement":
        if a < policy.min_agree:
            return Decision(False, "roundtrip_disagrees",
                            f"agreement: {a}/{n} answers reach the row's result, "
                            f"need {policy.min_agree}", None)
        if judge == "no":
            return Decision(False, "judged_inconsistent", "agreement: the judge said NO", None)
        return Decision(True, None, f"agreement: {a}/{n} >= {policy.min_agree}", LEVEL_VERIFIED)
    need = policy.converge_threshold(n)
    if c >= need and c > a:
        return Decision(False, "roundtrip_converges_elsewhere",
                        f"converges elsewhere: {c}/{n} answers agree on another result "
                        f"(>= {need}) and more than the {a}/{n} reaching the row's", None)
    if judge == "no":
        if confirmed and a > c:
            return Decision(True, None,
                            f"judge overruled: the judge said NO but {a}/{n} answers reach the "
                            f"row's result (>= {policy.min_agree}, more than any other)",
                            LEVEL_JUDGE_OVERRULED)
        return Decision(False, "judged_inconsistent",
                        f"judge NO unrefuted: {a}/{n} answers reach the row's result "
                        f"(overruling needs {policy.min_agree} and more than any other group)",
                        None)
    if confirmed:
        return Decision(True, None,
                        f"confirmed: {a}/{n} answers reach the row's result (>= "
                        f"{policy.min_agree}), no larger group elsewhere", LEVEL_VERIFIED)
    return Decision(True, None,
                    f"hard: {a}/{n} answers reach the row's result and the others scatter "
                    f"(largest other group {c}/{n} < {need}): no evidence of a mismatch",
                    LEVEL_HARD)


def largest_other_group(keys: Sequence[Hashable | None], row_key: Hashable | None,
                        sqls: Sequence[str | None]) -> tuple[int, str | None]:
    """Size of the largest group of equal ``keys`` (result signatures) that is not
    ``row_key``, and one SQL of it; None keys (failed answers) vote for nothing."""
    groups: dict[Hashable, list[int]] = {}
    for i, key in enumerate(keys):
        if key is None or key == row_key:
            continue
        groups.setdefault(key, []).append(i)
    if not groups:
        return 0, None
    best = min(groups.values(), key=lambda members: (-len(members), members[0]))
    return len(best), sqls[best[0]]


def with_signals(row: Row, **signals: Any) -> Row:
    """A copy of ``row`` whose ``verification_signals`` holds ``signals`` too."""
    held = row.get(VERIFICATION_SIGNALS)
    merged = dict(held) if isinstance(held, dict) else {}
    merged.update(signals)
    return {**row, VERIFICATION_SIGNALS: merged}


def verified_upstream(row: Row) -> bool:
    """Whether the judge and the round trip have nothing to add for this row: its question is
    canonical (correct by construction) or a paraphrase the paraphrase step already verified
    with the same checks."""
    return row.get(QUESTION_SOURCE) in ("canonical", "paraphrase")


def canonical_verified(row: Row) -> Row:
    """``row`` as the judge and round trip pass it on when ``verified_upstream``: a canonical
    question gets the rule and level that say why it was not asked; a verified paraphrase
    keeps what the paraphrase step recorded."""
    if row.get(QUESTION_SOURCE) != "canonical":
        return row
    passed = row.get("checks_passed") if isinstance(row.get("checks_passed"), list) else []
    out = with_signals(row, question=("canonical"),
                       **({"question_checks": "passed"} if "question_checks" in passed else {}))
    return {**out, VERIFICATION_RULE: CANONICAL_RULE, VERIFICATION_LEVEL: LEVEL_CANONICAL}
