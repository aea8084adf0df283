"""``Text2SQLQuestionParaphraser``: a natural rewrite of a canonical question, kept if verified."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from sqlsynth.operators.base import Operator, Reject, Row, RowOutcome, StepContext
from sqlsynth.operators.filter.decision import (
    QUESTION_SOURCE,
    VERIFICATION_LEVEL,
    VERIFICATION_RULE,
    with_signals,
)
from sqlsynth.operators.generate.base import GenerateOperator
from sqlsynth.operators.helpers import clip, draw_llm_seed
from sqlsynth.prompts.paraphrase import Text2SQLQuestionParaphrasePrompt, parse_paraphrase
from sqlsynth.sql import SQLParseError, parse_single

if TYPE_CHECKING:
    from sqlsynth.db.protocol import Database
    from sqlsynth.llm.base import ChatModel

#: the template question a kept paraphrase replaced
CANONICAL_QUESTION = "canonical_question"
#: "kept", or why the paraphrase was not (the canonical question stayed)
PARAPHRASE_STATUS = "paraphrase_status"
PARAPHRASE_DETAIL = "paraphrase_detail"
#: ``question_source`` while a rewrite is being verified: the judge and the round trip skip
#: canonical rows, so the candidate must not look like one
_CANDIDATE = "paraphrase_candidate"
PARAPHRASED = "paraphrase"


def sql_literals(sql: str, dialect: str) -> list[str]:
    """The string and number literals of ``sql`` (none when it does not parse)."""
    from sqlglot import exp

    try:
        tree = parse_single(sql, dialect)
    except SQLParseError:
        return []
    return [str(lit.this) for lit in tree.find_all(exp.Literal)]


def lost_values(candidate: str, sql: str, canonical: str, dialect: str) -> list[str]:
    """The SQL's literals the canonical question states but the rewrite dropped: a paraphrase
    that loses a value asks something else (values of one character are too common to tell)."""
    text = candidate.lower()
    return [value for value in sql_literals(sql, dialect)
            if len(value) > 1 and value.lower() in canonical.lower() and value.lower() not in text]


class Text2SQLQuestionParaphraser(GenerateOperator):
    """Rewrites each canonical question in natural words and keeps the rewrite only when the
    verification steps accept it; a row is never lost because a paraphrase failed.

    Canonical questions (``CanonicalQuestionGenerator``) are correct but plain. Any chat model,
    the local one included, is asked for one rewrite (question and evidence shown, no schema:
    the prompt fits a small context). The rewrite must stay a question and keep every value the
    canonical question states, then passes ``verifiers`` in order: the operators the pipeline verifies
    questions with (the deterministic question checks; with an endpoint also the judge, the
    training prompt and the round trip), each applied to the candidate row as its own step
    would. A kept rewrite replaces ``question`` (``question_source`` ``paraphrase``, the
    template in ``canonical_question``, the verifiers' fields on the row); otherwise the
    canonical question stays and ``paraphrase_status`` says why. ``LLMUnavailableError``
    still stops the run (the row waits for the endpoint like every other LLM step).

    Input columns:
        - SQL (str): ``input_sql_key``; db_id (str): ``input_db_id_key``; question (str):
          ``input_question_key``; evidence (str, optional): ``input_evidence_key``;
          ``question_source`` (rows whose question is not ``canonical`` pass unchanged).
    Output columns:
        - question (str): the kept rewrite, or the canonical question.
        - question_source (str): ``paraphrase`` when the rewrite was kept.
        - canonical_question (str): the template question a kept rewrite replaced.
        - paraphrase_status (str): ``kept``, or the reason the rewrite was not: a verifier's
          reject reason (``names_sql``, ``judged_inconsistent``, ``roundtrip_disagrees``, ...),
          ``not_a_question`` (an answer instead of a question), ``lost_value``, ``unchanged``,
          ``empty_answer``, ``llm_error``, ``prompt_too_long``.
        - paraphrase_detail (str): the rejected rewrite and the verifier's detail.
    Reject reasons:
        - none: every row comes out.
    Example:
        >>> op = Text2SQLQuestionParaphraser(llm, db, verifiers=[Text2SQLQuestionFilter()])
        >>> op.run(storage=storage.step(), input_question_key="question")
    """

    default_keys: ClassVar[dict[str, str]] = {
        "input_sql_key": "SQL",
        "input_db_id_key": "db_id",
        "input_question_key": "question",
        "input_evidence_key": "evidence",
    }
    optional_inputs: ClassVar[frozenset[str]] = frozenset({"input_evidence_key"})

    def __init__(self, llm_serving: ChatModel, database_manager: Database,
                 prompt_template: Any = None, *, verifiers: Sequence[Operator] = (),
                 temperature: float = 0.7, max_tokens: int | None = 96) -> None:
        super().__init__(database_manager, prompt_template or Text2SQLQuestionParaphrasePrompt(),
                         llm_serving=llm_serving, temperature=temperature,
                         max_tokens=max_tokens)
        self.verifiers = list(verifiers)

    def config_fingerprint(self) -> object:
        """What decides the output: the prompt, sampling and the verifiers' own settings."""
        from sqlsynth.storage.fingerprint import describe_operator

        return {
            "prompt": type(self.prompt_template).__qualname__,
            "system": getattr(self.prompt_template, "system_prompt", ""),
            "model": getattr(self.llm_serving, "model_name", type(self.llm_serving).__name__),
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "verifiers": [describe_operator(v) for v in self.verifiers],
        }

    def required_input_keys(self) -> list[str]:
        return [self.keys["input_sql_key"], self.keys["input_db_id_key"],
                self.keys["input_question_key"]]

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        if row.get(QUESTION_SOURCE) != "canonical":
            return [row]
        q_key, e_key = self.keys["input_question_key"], self.keys["input_evidence_key"]
        canonical = str(row.get(q_key) or "")
        user = self.prompt_template.build_prompt(question=canonical,
                                                 evidence=str(row.get(e_key) or ""))
        seed = draw_llm_seed(ctx.rng_for(row, salt="paraphrase"))
        answers = await self.ask(user, n=1, seed=seed)
        if isinstance(answers, Reject):
            return [self._kept_canonical(row, answers.reason, answers.detail)]
        candidate = parse_paraphrase(answers[0] if answers else "")
        if not candidate:
            return [self._kept_canonical(row, "empty_answer", clip(str(answers), 200))]
        if candidate.strip().lower() == canonical.strip().lower():
            return [self._kept_canonical(row, "unchanged", candidate)]
        if canonical.rstrip().endswith("?") and not candidate.rstrip().endswith("?"):
            # small models answer the question instead ("The number of doctors ... is 1.")
            return [self._kept_canonical(row, "not_a_question", candidate)]
        lost = lost_values(candidate, str(row[self.keys["input_sql_key"]]), canonical,
                           self.dialect)
        if lost:
            return [self._kept_canonical(row, "lost_value",
                                         f"{candidate!r} drops {', '.join(map(repr, lost))}")]
        current: Row = {**row, q_key: candidate, QUESTION_SOURCE: _CANDIDATE}
        for verifier in self.verifiers:
            outcome = await verifier.aprocess_row(current, ctx)
            if isinstance(outcome, Reject):
                return [self._kept_canonical(row, outcome.reason,
                                             clip(f"{candidate!r}: {outcome.detail}", 500))]
            current = outcome[0]
        kept = {**current, QUESTION_SOURCE: PARAPHRASED, CANONICAL_QUESTION: canonical,
                PARAPHRASE_STATUS: "kept"}
        if VERIFICATION_RULE not in kept:
            names = ", ".join(type(v).__name__ for v in self.verifiers) or "no verifier"
            kept = with_signals(kept, question="paraphrase")
            kept = {**kept, VERIFICATION_LEVEL: "paraphrase_checked",
                    VERIFICATION_RULE: f"paraphrase of a canonical question kept after {names}; "
                                       f"no endpoint: the judge and the round trip were not "
                                       f"asked"}
        return [kept]

    @staticmethod
    def _kept_canonical(row: Row, reason: str, detail: str) -> Row:
        return {**row, PARAPHRASE_STATUS: reason, PARAPHRASE_DETAIL: detail}
