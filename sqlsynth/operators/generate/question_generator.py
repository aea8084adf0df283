"""``Text2SQLQuestionGenerator``: the natural-language question each query answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from sqlsynth.llm.errors import LLMUnavailableError
from sqlsynth.operators.base import Reject, Row, RowOutcome, StepContext
from sqlsynth.operators.generate.base import GenerateOperator
from sqlsynth.operators.helpers import draw_llm_seed, is_blank
from sqlsynth.prompts.question_generation import (
    KNOWLEDGE_STYLES,
    QUESTION_STYLES,
    Text2SQLQuestionGeneratorPrompt,
    parse_question_response,
)

if TYPE_CHECKING:
    from sqlsynth.db.protocol import Database
    from sqlsynth.llm.base import ChatModel, EmbeddingModel


def medoid_index(vectors: Sequence[Sequence[float]]) -> int:
    """Index of the vector with the smallest summed cosine distance to all others.

    The candidate closest to the rest is the one the samples agree on; stray or odd
    candidates lose. Ties go to the earliest index. Zero vectors count as distance 1.
    """
    matrix = np.asarray(vectors, dtype=np.float64)
    if matrix.ndim != 2 or len(matrix) == 0:
        raise ValueError(f"expected a non-empty list of equal-length vectors, got {matrix.shape}")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit = np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
    distances = 1.0 - unit @ unit.T
    return int(np.argmin(distances.sum(axis=1)))


class Text2SQLQuestionGenerator(GenerateOperator):
    """Writes one question (and evidence) per query, in a style drawn with the row's generator.

    Asks for ``question_candidates_num`` candidates in one request (``n=``), parses each strictly
    (``<question>``/``<evidence>`` blocks; see ``parse_question_response``), and keeps the medoid
    of the parsed candidates by cosine distance of their embeddings (one embedding call per row;
    with one or two candidates the first is kept). Vague and Metaphorical questions always carry
    evidence that explains their wording in database terms; other styles carry a one-line hint
    only when one is needed, else "". Rows that already have a non-empty question keep it without
    any request; their evidence is kept, or set to "" when missing.

    Input columns:
        - SQL (str): the query to describe (``input_sql_key``, default ``SQL``).
        - db_id (str): its database (``input_db_id_key``, default ``db_id``).
    Output columns:
        - question (str): the chosen question (``output_question_key``, default ``question``).
        - evidence (str): the hint, or "" (``output_evidence_key``, default ``evidence``).
        - question_type (str): the style drawn (``output_question_type_key``, default
          ``question_type``; None on rows that kept their own question).
    Reject reasons:
        - ``missing_field``: ``SQL`` or ``db_id`` is missing or empty.
        - ``unknown_db_id``: no such database.
        - ``schema_error``: the database's schema cannot be rendered.
        - ``llm_error``: the request failed (``LLMUnavailableError`` stops the run instead).
        - ``prompt_too_long``: the prompt exceeds the model's context even with the schema
          cut to the tables the row names (``GenerateOperator.fitted_schema``).
        - ``no_parseable_question``: none of the candidates followed the format.
        - ``embedding_error``: the embedding request failed or returned the wrong count.
    Example:
        >>> op = Text2SQLQuestionGenerator(llm_serving=llm, embedding_serving=emb,
        ...                                database_manager=db, question_candidates_num=5)
        >>> op.run(storage=storage.step(), input_sql_key="SQL", output_question_key="question")
    """

    default_keys: ClassVar[dict[str, str]] = {
        "input_sql_key": "SQL",
        "input_db_id_key": "db_id",
        "output_question_key": "question",
        "output_evidence_key": "evidence",
        "output_question_type_key": "question_type",
    }

    def __init__(
        self,
        llm_serving: ChatModel,
        embedding_serving: EmbeddingModel,
        database_manager: Database,
        question_candidates_num: int = 5,
        prompt_template: Any = None,
        *,
        temperature: float = 0.8,
        max_tokens: int | None = None,
    ) -> None:
        super().__init__(
            database_manager,
            prompt_template or Text2SQLQuestionGeneratorPrompt(),
            llm_serving=llm_serving,
            temperature=temperature,
            max_tokens=max_tokens,
        )
        if question_candidates_num < 1:
            raise ValueError(f"question_candidates_num must be >= 1, got {question_candidates_num}")
        self.embedding_serving = embedding_serving
        self.question_candidates_num = question_candidates_num

    def required_input_keys(self) -> list[str]:
        return [self.keys["input_sql_key"], self.keys["input_db_id_key"]]

    def _parse(self, text: str, needs_evidence: bool) -> tuple[str, str] | None:
        parse = getattr(self.prompt_template, "parse_response", None)
        if parse is None:
            return parse_question_response(text, needs_evidence=needs_evidence)
        return parse(text, needs_evidence=needs_evidence)

    def _grammar_attribute(self, needs_evidence: bool) -> str:
        """The stricter grammar (non-empty evidence) when the style needs evidence and the
        template declares one."""
        strict = "output_grammar_with_evidence"
        if needs_evidence and getattr(self.prompt_template, strict, None) is not None:
            return strict
        return "output_grammar"

    async def _choose(self, candidates: list[tuple[str, str]]) -> int | Reject:
        """Index of the medoid candidate, embedding each distinct question once."""
        if len(candidates) <= 2:
            return 0
        distinct = list(dict.fromkeys(q for q, _ in candidates))
        if len(distinct) == 1:
            return 0
        try:
            vectors = await self.embedding_serving.aembed(distinct)
        except LLMUnavailableError:
            raise
        except Exception as exc:  # noqa: BLE001 - one request failed: reject the row, go on
            return Reject("embedding_error", f"{type(exc).__name__}: {exc}")
        if len(vectors) != len(distinct):
            return Reject("embedding_error", f"{len(vectors)} embeddings for {len(distinct)} texts")
        by_text = dict(zip(distinct, vectors))
        return medoid_index([by_text[q] for q, _ in candidates])

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        db_key = self.keys["input_db_id_key"]
        q_key = self.keys["output_question_key"]
        ev_key = self.keys["output_evidence_key"]
        type_key = self.keys["output_question_type_key"]
        schema = self.fitted_schema(row, db_key, (self.keys["input_sql_key"],))
        if isinstance(schema, Reject):
            return schema
        if not is_blank(row.get(q_key)):
            kept = dict(row)
            kept[ev_key] = row.get(ev_key) or ""
            kept.setdefault(type_key, None)
            return [kept]
        rng = ctx.rng_for(row)
        style = rng.choice(list(QUESTION_STYLES))
        needs_evidence = style in KNOWLEDGE_STYLES
        user = self.prompt_template.build_prompt(
            engine=self.engine_name,
            schema=schema,
            sql=str(row[self.keys["input_sql_key"]]),
            style=style,
            needs_evidence=needs_evidence,
        )
        answers = await self.ask(
            user, n=self.question_candidates_num, seed=draw_llm_seed(rng),
            grammar_attribute=self._grammar_attribute(needs_evidence))
        if isinstance(answers, Reject):
            return answers
        candidates = [p for a in answers if (p := self._parse(a, needs_evidence)) is not None]
        if not candidates:
            return Reject(
                "no_parseable_question",
                f"none of {len(answers)} candidates followed the format (style {style})",
            )
        chosen = await self._choose(candidates)
        if isinstance(chosen, Reject):
            return chosen
        question, evidence = candidates[chosen]
        return [{**row, q_key: question, ev_key: evidence, type_key: style}]
