"""``SQLExecutionClassifier``: difficulty from how often a solver reproduces the result."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from sqlsynth.db.compare import comparable
from sqlsynth.llm.errors import LLMError, LLMUnavailableError
from sqlsynth.operators.base import Operator, Reject, Row, RowOutcome, StepContext
from sqlsynth.operators.eval._labels import check_thresholds, label_for
from sqlsynth.operators.eval.solvers import PromptSolver, Solver, solver_answers, uses_prompt
from sqlsynth.operators.helpers import check_row
from sqlsynth.operators.quality import ratio

if TYPE_CHECKING:
    from sqlsynth.db.protocol import Database
    from sqlsynth.llm.base import ChatModel

GOLD_ERROR = "gold_error"
#: solver answers returning the gold result / answers asked, e.g. "7/10"
PASS_RATE = "sql_execution_pass_rate"


class SQLExecutionClassifier(Operator):
    """Labels each row's difficulty by how often a solver reproduces its SQL's result.

    The solver answers the row ``num_generations`` times; each answer is executed and counted
    correct when its result matches the gold SQL's (``results_match``, ordered when the gold
    query orders its output). The count c maps through the thresholds like the reference:
    c <= t[0] gives labels[0], c <= t[1] gives labels[1], ..., above all gives the last label.
    With the defaults ([2, 5, 9], extra/hard/medium/easy) and 10 generations: 0-2 correct is
    ``extra``, 3-5 ``hard``, 6-9 ``medium``, all 10 ``easy`` - the more often it is solved,
    the easier. With ``threshold_fractions=True`` the thresholds are shares of
    ``num_generations`` instead (the pipelines pass ``[0.2, 0.5, 0.9]``: the same labels at 10
    generations, and still all four at 20 or 4), so a change of ``--execution-generations``
    does not turn every row ``easy``. Given the same ``SharedSolver`` as a ``Text2SQLRoundTripFilter`` earlier in the
    pipeline (with as many generations), it reuses that step's answers instead of asking again.

    Input columns:
        - SQL (str): the gold query (``input_sql_key``, default ``SQL``).
        - db_id (str): the database (``input_db_id_key``, default ``db_id``).
        - prompt (str): the training prompt, for the prompt solver (``input_prompt_key``, default
          ``prompt``).
        - question, evidence (str): for solvers that use them (``input_question_key``, default
          ``question``; ``input_evidence_key``, default ``evidence``).
    Output columns:
        - sql_execution_difficulty (str): the label (``output_difficulty_key``, default
          ``sql_execution_difficulty``); ``gold_error`` when the gold SQL does not run or its
          result is cut at the row cap (no solver call, the row is kept).
        - sql_execution_pass_rate (str): solver answers returning the gold result / answers
          asked, e.g. ``7/10`` (``output_pass_rate_key``, default ``sql_execution_pass_rate``):
          the measurement RL exports select prompts by; absent when the gold cannot be graded.
    Reject reasons:
        - ``missing_field``: a required column is missing or empty.
        - ``unknown_db_id``: no such database.
        - ``llm_error``: the solver's request failed (``LLMUnavailableError`` stops the run).
    Example:
        >>> op = SQLExecutionClassifier(llm_serving=llm, database_manager=db, num_generations=10)
        >>> op.run(storage=storage.step(), input_sql_key="SQL", input_prompt_key="prompt")
    """

    default_keys: ClassVar[dict[str, str]] = {
        "input_sql_key": "SQL",
        "input_db_id_key": "db_id",
        "input_prompt_key": "prompt",
        "input_question_key": "question",
        "input_evidence_key": "evidence",
        "output_difficulty_key": "sql_execution_difficulty",
        "output_pass_rate_key": PASS_RATE,
    }

    def __init__(
        self,
        llm_serving: ChatModel,
        database_manager: Database,
        num_generations: int = 10,
        difficulty_thresholds: Sequence[float] = (2, 5, 9),
        difficulty_labels: Sequence[str] = ("extra", "hard", "medium", "easy"),
        *,
        solver: Solver | None = None,
        threshold_fractions: bool = False,
    ) -> None:
        super().__init__()
        if num_generations < 1:
            raise ValueError(f"num_generations must be >= 1, got {num_generations}")
        check_thresholds(difficulty_thresholds, difficulty_labels)
        if threshold_fractions and not all(0 <= t <= 1 for t in difficulty_thresholds):
            raise ValueError("threshold_fractions: difficulty_thresholds must be in [0, 1], got "
                             f"{list(difficulty_thresholds)}")
        self.threshold_fractions = bool(threshold_fractions)
        if solver is None and llm_serving is None:
            raise ValueError("SQLExecutionClassifier needs llm_serving or a solver")
        self.llm_serving = llm_serving
        self.database_manager = database_manager
        self.num_generations = int(num_generations)
        self.difficulty_thresholds = list(difficulty_thresholds)
        self.difficulty_labels = list(difficulty_labels)
        self.solver = solver if solver is not None else PromptSolver(llm_serving)

    def required_input_keys(self) -> list[str]:
        keys = [self.keys["input_sql_key"], self.keys["input_db_id_key"]]
        if uses_prompt(self.solver):
            keys.append(self.keys["input_prompt_key"])
        return keys

    def label(self, correct: int) -> str:
        if self.threshold_fractions:
            # a small tolerance: 2 of 10 is exactly the threshold 0.2, whatever float rounding
            counts = [t * self.num_generations + 1e-9 for t in self.difficulty_thresholds]
            return label_for(correct, counts, self.difficulty_labels)
        return label_for(correct, self.difficulty_thresholds, self.difficulty_labels)

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        rejected = check_row(row, self.required_input_keys(), self.database_manager,
                             self.keys["input_db_id_key"])
        if rejected is not None:
            return rejected
        db_id = str(row[self.keys["input_db_id_key"]])
        out_key = self.keys["output_difficulty_key"]
        gold_sql = str(row[self.keys["input_sql_key"]])
        gold = await self.database_manager.aexecute(db_id, gold_sql)
        if not comparable(gold):
            # a gold cut at the row cap cannot be compared (the first rows of two different
            # answers may agree), so it is not graded either, as in ``sqlsynth.eval``
            return [{**row, out_key: GOLD_ERROR}]

        try:
            candidates, matches = await solver_answers(self.solver, self.database_manager, row,
                                                       self.keys, gold=gold, gold_sql=gold_sql,
                                                       n=self.num_generations)
        except LLMUnavailableError:
            raise
        except LLMError as exc:
            return Reject("llm_error", f"{type(exc).__name__}: {exc}")
        correct = sum(1 for sql in candidates if sql and matches[sql])
        return [{**row, out_key: self.label(correct),
                 self.keys["output_pass_rate_key"]: ratio(correct, self.num_generations)}]
