"""``Text2SQLRoundTripFilter``: keep rows whose question leads back to their SQL's answer."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

from sqlsynth.db.compare import comparable, result_signature
from sqlsynth.llm.errors import LLMError, LLMUnavailableError
from sqlsynth.operators.base import Operator, Reject, Row, RowOutcome, StepContext
from sqlsynth.operators.eval.solvers import PromptSolver, Solver, solver_results, uses_prompt
from sqlsynth.operators.filter.decision import (
    LEVEL_HARD,
    VERIFICATION_LEVEL,
    VERIFICATION_RULE,
    DecisionPolicy,
    RoundTripEvidence,
    canonical_verified,
    decide,
    largest_other_group,
    verified_upstream,
    with_signals,
)
from sqlsynth.operators.helpers import check_row, clip, failed_execution
from sqlsynth.operators.quality import JUDGE_VERDICT, ROUNDTRIP_AGREEMENT, with_check

if TYPE_CHECKING:
    from sqlsynth.db.protocol import Database
    from sqlsynth.llm.base import ChatModel


def default_min_agree(num_generations: int) -> int:
    """A quarter of the answers, at least one: 3 of 10, 1 of 4."""
    return max(1, math.ceil(num_generations / 4))


class Text2SQLRoundTripFilter(Operator):
    """Decides each row on the evidence of an independent solver and the judge's verdict.

    An independent solver answers the row's question and evidence from the schema alone
    (never seeing the row's SQL) ``num_generations`` times; each answer is executed and
    grouped by result (``result_signature``, ordered when the row's SQL orders its output).
    The rule of ``sqlsynth.operators.filter.decision`` (``policy="evidence"``, the default)
    then rejects a row only on evidence of a mismatch: the answers converge on another result
    (a group of at least ``max(converge_min, ceil(converge_share * n))`` answers, larger than
    the group reaching the row's result), or the judge said NO (``judge_verdict`` ``no``, left
    by a ``Text2SQLCorrespondenceFilter(defer_no=True)``) and the round trip does not overrule
    it (at least ``min_agree`` answers reach the row's result, more than any other group).
    Scattered answers mean a hard question: the row is kept, its agreement recorded, its
    ``verification_level`` ``hard``. ``policy="agreement"`` is the 0.2 rule (reject below
    ``min_agree``). The solver is the one ``SQLExecutionClassifier`` uses; pass the same
    ``SharedSolver`` to both and the classifier reuses these answers. ``min_agree`` defaults to
    a quarter of ``num_generations`` (3 of 10).

    A canonical question (``question_source`` ``canonical``, correct by construction) is not
    asked: the row passes with level ``canonical`` and the rule saying why; a paraphrase the
    paraphrase step verified passes as it is.

    Input columns:
        - SQL (str): the query (``input_sql_key``, default ``SQL``).
        - db_id (str): the database (``input_db_id_key``, default ``db_id``).
        - question (str): the question (``input_question_key``, default ``question``).
        - evidence (str, optional): the hint (``input_evidence_key``, default ``evidence``).
        - prompt (str): the training prompt, for the prompt solver only (``input_prompt_key``,
          default ``prompt``).
        - judge_verdict (str, optional): ``no`` when the judge said NO and deferred to this step.
    Output columns:
        - roundtrip_agreement (str): ``"agreeing/asked"``, e.g. ``7/10``
          (``output_agreement_key``, default ``roundtrip_agreement``).
        - verification_signals (dict): the evidence so far: ``question_checks``, ``judge``,
          ``roundtrip`` and ``roundtrip_competing`` (the largest group elsewhere, ``k/asked``).
        - verification_rule (str): the rule that kept the row, with its numbers.
        - verification_level (str): ``verified``, ``judge_overruled`` or ``hard``.
        - checks_passed (list[str]): ``"roundtrip"`` is appended when the round trip confirms
          the row (level ``verified`` or ``judge_overruled``).
    Reject reasons:
        - ``roundtrip_converges_elsewhere``: the answers agree on another result (detail: the
          counts and that answer).
        - ``judged_inconsistent``: the judge's NO, not overruled (detail: the judge's reason
          and the agreement).
        - ``roundtrip_disagrees``: (``policy="agreement"``) fewer than ``min_agree`` agree.
        - ``sql_not_comparable``: the row's result is cut at the row cap.
        - ``syntax_error``, ``runtime_error``, ``timeout``, ...: the row's SQL fails.
        - ``llm_error``: the solver's request failed (``LLMUnavailableError`` stops the run).
        - ``missing_field``: a required column is missing or empty.
        - ``unknown_db_id``: no such database.
    Example:
        >>> verifier = Text2SQLRoundTripFilter(llm_serving, database_manager, num_generations=10)
        >>> verifier.run(storage=storage.step(), input_sql_key="SQL", input_prompt_key="prompt")
    """

    default_keys: ClassVar[dict[str, str]] = {
        "input_sql_key": "SQL",
        "input_db_id_key": "db_id",
        "input_prompt_key": "prompt",
        "input_question_key": "question",
        "input_evidence_key": "evidence",
        "output_agreement_key": ROUNDTRIP_AGREEMENT,
    }

    def __init__(self, llm_serving: ChatModel, database_manager: Database, num_generations: int = 10,
                 min_agree: int | None = None, *, solver: Solver | None = None,
                 policy: str = "evidence", converge_min: int = 3,
                 converge_share: float = 0.25) -> None:
        super().__init__()
        if num_generations < 1:
            raise ValueError(f"num_generations must be >= 1, got {num_generations}")
        min_agree = default_min_agree(num_generations) if min_agree is None else int(min_agree)
        if not 1 <= min_agree <= num_generations:
            raise ValueError(f"min_agree must be in 1..{num_generations}, got {min_agree}")
        if solver is None and llm_serving is None:
            raise ValueError("Text2SQLRoundTripFilter needs llm_serving or a solver")
        self.llm_serving = llm_serving
        self.database_manager = database_manager
        self.num_generations = int(num_generations)
        self.min_agree = min_agree
        self.decision_policy = DecisionPolicy(policy=policy, min_agree=min_agree,
                                              converge_min=converge_min,
                                              converge_share=converge_share)
        self.solver = solver if solver is not None else PromptSolver(llm_serving)

    def required_input_keys(self) -> list[str]:
        keys = [self.keys["input_sql_key"], self.keys["input_db_id_key"],
                self.keys["input_question_key"]]
        if uses_prompt(self.solver):
            keys.append(self.keys["input_prompt_key"])
        return keys

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        if verified_upstream(row):
            return [canonical_verified(row)]
        rejected = check_row(row, self.required_input_keys(), self.database_manager,
                             self.keys["input_db_id_key"])
        if rejected is not None:
            return rejected
        db_id = str(row[self.keys["input_db_id_key"]])
        sql = str(row[self.keys["input_sql_key"]])
        gold = await self.database_manager.aexecute(db_id, sql)
        if not gold.ok:
            return failed_execution(gold)
        if not comparable(gold):
            return Reject("sql_not_comparable", "the row's result is cut at the row cap")
        try:
            answers, results, ordered = await solver_results(
                self.solver, self.database_manager, row, self.keys, gold_sql=sql,
                n=self.num_generations)
        except LLMUnavailableError:
            raise
        except LLMError as exc:
            return Reject("llm_error", f"{type(exc).__name__}: {exc}")
        row_key = result_signature(gold, ordered=ordered)
        keys = [result_signature(results[a], ordered=ordered) if a else None for a in answers]
        agreeing = sum(1 for k in keys if k is not None and k == row_key)
        competing, competing_sql = largest_other_group(keys, row_key, answers)
        evidence = RoundTripEvidence(self.num_generations, agreeing, competing, competing_sql)
        judge = row.get(JUDGE_VERDICT)
        decision = decide(evidence, judge if judge in ("yes", "no") else None,
                          self.decision_policy)
        if not decision.keep:
            assert decision.reason is not None
            judge_reason = row.get("judge_reason")
            extra = f"; judge: {judge_reason}" if decision.reason == "judged_inconsistent" \
                and judge_reason else ""
            return Reject(decision.reason,
                          clip(f"{decision.rule}; most frequent other answer: "
                               f"{competing_sql!r}{extra}", 600))
        passed = row.get("checks_passed") if isinstance(row.get("checks_passed"), list) else []
        earlier = {"question_checks": "passed" if "question_checks" in passed else None,
                   "judge": judge if judge in ("yes", "no") else None}
        out = with_signals(row, **{k: v for k, v in earlier.items() if v},
                           roundtrip=evidence.agreement, roundtrip_competing=evidence.competition)
        out = {**out, self.keys["output_agreement_key"]: evidence.agreement,
               VERIFICATION_RULE: decision.rule, VERIFICATION_LEVEL: decision.level}
        if decision.level == LEVEL_HARD:
            return [out]
        return [with_check(out, "roundtrip")]
