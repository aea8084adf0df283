"""``Text2SQLRoundTripFilter``: keep rows whose question leads back to their SQL's answer."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

from sqlsynth.db.compare import comparable
from sqlsynth.llm.errors import LLMError, LLMUnavailableError
from sqlsynth.operators.base import Operator, Reject, Row, RowOutcome, StepContext
from sqlsynth.operators.eval.solvers import PromptSolver, Solver, solver_answers, uses_prompt
from sqlsynth.operators.helpers import check_row, clip, failed_execution
from sqlsynth.operators.quality import ROUNDTRIP_AGREEMENT, ratio, with_check

if TYPE_CHECKING:
    from sqlsynth.db.protocol import Database
    from sqlsynth.llm.base import ChatModel


def default_min_agree(num_generations: int) -> int:
    """A quarter of the answers, at least one: 3 of 10, 1 of 4."""
    return max(1, math.ceil(num_generations / 4))


class Text2SQLRoundTripFilter(Operator):
    """Keeps rows whose question leads an independent solver back to their SQL's answer.

    An independent solver answers the row's question and evidence from the schema alone
    (never seeing the row's SQL) ``num_generations`` times; the row is verified when at least
    ``min_agree`` of the answers return the same result as the row's SQL (``results_match``,
    ordered when the row's SQL orders its output). A question written for another query, or
    no question at all, leads the solver elsewhere, which an LLM judge's yes/no can miss. The
    solver is the one ``SQLExecutionClassifier`` uses (``PromptSolver`` on the training prompt
    by default, or the content-aware engine); pass the same ``SharedSolver`` to both and the
    classifier reuses these answers, so the pipeline pays for them once. ``min_agree`` defaults
    to a quarter of ``num_generations`` (3 of 10): hard but right questions still pass, while a
    question for another query almost never reaches the row's result more than once or twice.

    Input columns:
        - SQL (str): the query (``input_sql_key``, default ``SQL``).
        - db_id (str): the database (``input_db_id_key``, default ``db_id``).
        - question (str): the question (``input_question_key``, default ``question``).
        - evidence (str, optional): the hint (``input_evidence_key``, default ``evidence``).
        - prompt (str): the training prompt, for the prompt solver only (``input_prompt_key``,
          default ``prompt``).
    Output columns:
        - roundtrip_agreement (str): ``"agreeing/asked"``, e.g. ``7/10``
          (``output_agreement_key``, default ``roundtrip_agreement``).
        - checks_passed (list[str]): ``"roundtrip"`` is appended.
    Reject reasons:
        - ``roundtrip_disagrees``: fewer than ``min_agree`` answers agree (detail: the agreement
          and the most frequent wrong answer).
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
                 min_agree: int | None = None, *, solver: Solver | None = None) -> None:
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
        self.solver = solver if solver is not None else PromptSolver(llm_serving)

    def required_input_keys(self) -> list[str]:
        keys = [self.keys["input_sql_key"], self.keys["input_db_id_key"],
                self.keys["input_question_key"]]
        if uses_prompt(self.solver):
            keys.append(self.keys["input_prompt_key"])
        return keys

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
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
            answers, matches = await solver_answers(self.solver, self.database_manager, row,
                                                    self.keys, gold=gold, gold_sql=sql,
                                                    n=self.num_generations)
        except LLMUnavailableError:
            raise
        except LLMError as exc:
            return Reject("llm_error", f"{type(exc).__name__}: {exc}")
        agreeing = sum(1 for a in answers if a and matches[a])
        agreement = ratio(agreeing, self.num_generations)
        if agreeing < self.min_agree:
            wrong = [a for a in answers if a and not matches[a]]
            common = max(dict.fromkeys(wrong), key=wrong.count) if wrong else None
            return Reject("roundtrip_disagrees",
                          clip(f"{agreement} solver answers return the row's result (need "
                               f"{self.min_agree}); most frequent other answer: {common!r}", 600))
        return [with_check(row, "roundtrip", **{self.keys["output_agreement_key"]: agreement})]
