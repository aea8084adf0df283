"""``Text2SQLQuestionFilter``: deterministic checks of question and evidence, before the judge."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from sqlsynth.operators.base import Operator, Reject, Row, RowOutcome, StepContext
from sqlsynth.operators.filter.question_checks import question_problem
from sqlsynth.operators.helpers import clip
from sqlsynth.operators.quality import with_check

if TYPE_CHECKING:
    from sqlsynth.db.protocol import Database


class Text2SQLQuestionFilter(Operator):
    """Keeps the row when the question is a whole, self-contained question about the data.

    No LLM, no database: it costs nothing and runs before the LLM judge, which lets through text
    a weak judge approves. Rules in ``sqlsynth.operators.filter.question_checks``; the first
    failing check, in the order below, is the reason.

    Input columns:
        - SQL (str): the query (``input_sql_key``, default ``SQL``; required).
        - question (str): the question (``input_question_key``, default ``question``).
        - evidence (str, optional): the hint (``input_evidence_key``, default ``evidence``).
    Output columns:
        - checks_passed (list[str]): ``"question_checks"`` is appended; nothing else changes.
    Reject reasons:
        - ``missing_field``: ``SQL`` is missing or empty (checked by the runner).
        - ``empty_question``: no question.
        - ``question_asks_back``: addresses the user: "what would you like to know?".
        - ``question_mentions_sql``: names SQL or holds query code.
        - ``question_placeholder``: an unfilled ``{slot}``, ``<tag>``, ``[name]``, ``___``.
        - ``question_fragment``: under three words, cut off, unbalanced.
        - ``question_copies_sql``: four consecutive words of the SQL, two of them keywords.
        - ``evidence_restates_sql``: evidence holding a SELECT or six consecutive SQL words.
    Example:
        >>> op = Text2SQLQuestionFilter()
        >>> op.run(storage=storage.step(), input_question_key="question")
    """

    default_keys: ClassVar[dict[str, str]] = {
        "input_sql_key": "SQL",
        "input_question_key": "question",
        "input_evidence_key": "evidence",
    }

    def __init__(self, database_manager: Database | None = None) -> None:
        super().__init__()
        self.database_manager = database_manager  # accepted for a uniform constructor; unused

    def required_input_keys(self) -> list[str]:
        return [self.keys["input_sql_key"]]

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        question = row.get(self.keys["input_question_key"])
        evidence = row.get(self.keys["input_evidence_key"])
        problem = question_problem(
            question if isinstance(question, str) else "",
            evidence if isinstance(evidence, str) else "",
            str(row.get(self.keys["input_sql_key"]) or ""),
        )
        if problem is not None:
            reason, detail = problem
            return Reject(reason, clip(f"{detail}; question: {question!r}"))
        return [with_check(row, "question_checks")]
