"""``Text2SQLCoTGenerator``: step-by-step reasoning candidates that end in the query."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from sqlsynth.operators.base import Reject, Row, RowOutcome, StepContext
from sqlsynth.operators.generate.base import GenerateOperator
from sqlsynth.operators.helpers import draw_llm_seed
from sqlsynth.prompts.cot_generation import Text2SQLCotGeneratorPrompt
from sqlsynth.sql import extract_sql

if TYPE_CHECKING:
    from sqlsynth.db.protocol import Database
    from sqlsynth.llm.base import ChatModel


class Text2SQLCoTGenerator(GenerateOperator):
    """Writes ``sampling_num`` reasoning answers per row, for the voting step to choose from.

    The reference SQL is shown as a hint the answer must not mention, so the reasoning reaches a
    correct query yet reads as if found unaided. Answers without a fenced SQL block stay in the
    list (the voter drops them).

    Input columns:
        - SQL (str): the reference query (``input_sql_key``, default ``SQL``).
        - question (str): the question (``input_question_key``, default ``question``).
        - db_id (str): the database (``input_db_id_key``, default ``db_id``).
        - evidence (str, optional): the hint (``input_evidence_key``, default ``evidence``).
    Output columns:
        - cot_responses (list[str]): the answers (``output_cot_responses_key``, default
          ``cot_responses``).
        - ``output_cot_key`` (default ``cot_reasoning``) is accepted because the reference
          pipelines pass it: it names the column the voting step will fill from these candidates;
          this step does not write it.
    Reject reasons:
        - ``missing_field``: ``SQL``, ``question`` or ``db_id`` is missing or empty.
        - ``unknown_db_id``: no such database.
        - ``schema_error``: the database's schema cannot be rendered.
        - ``llm_error``: the request failed (``LLMUnavailableError`` stops the run instead).
        - ``prompt_too_long``: the prompt exceeds the model's context even with the schema
          cut to the tables the row names (``GenerateOperator.fitted_schema``).
        - ``no_cot_with_sql``: none of the answers has a fenced SQL block.
    Example:
        >>> op = Text2SQLCoTGenerator(llm_serving=llm, database_manager=db, sampling_num=3)
        >>> op.run(storage=storage.step(), output_cot_responses_key="cot_responses")
    """

    default_keys: ClassVar[dict[str, str]] = {
        "input_sql_key": "SQL",
        "input_question_key": "question",
        "input_db_id_key": "db_id",
        "input_evidence_key": "evidence",
        "output_cot_key": "cot_reasoning",
        "output_cot_responses_key": "cot_responses",
    }

    def __init__(
        self,
        llm_serving: ChatModel,
        database_manager: Database,
        sampling_num: int = 3,
        prompt_template: Any = None,
        *,
        temperature: float = 0.8,
        max_tokens: int | None = None,
    ) -> None:
        super().__init__(
            database_manager,
            prompt_template or Text2SQLCotGeneratorPrompt(),
            llm_serving=llm_serving,
            temperature=temperature,
            max_tokens=max_tokens,
        )
        if sampling_num < 1:
            raise ValueError(f"sampling_num must be >= 1, got {sampling_num}")
        self.sampling_num = sampling_num

    def required_input_keys(self) -> list[str]:
        return [
            self.keys["input_sql_key"],
            self.keys["input_question_key"],
            self.keys["input_db_id_key"],
        ]

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        schema = self.fitted_schema(row, self.keys["input_db_id_key"], (
            self.keys["input_sql_key"], self.keys["input_question_key"],
            self.keys["input_evidence_key"]))
        if isinstance(schema, Reject):
            return schema
        user = self.prompt_template.build_prompt(
            engine=self.engine_name,
            schema=schema,
            question=str(row[self.keys["input_question_key"]]),
            evidence=str(row.get(self.keys["input_evidence_key"]) or ""),
            sql=str(row[self.keys["input_sql_key"]]),
        )
        answers = await self.ask(user, n=self.sampling_num, seed=draw_llm_seed(ctx.rng_for(row)))
        if isinstance(answers, Reject):
            return answers
        if not any(extract_sql(a) for a in answers):
            return Reject("no_cot_with_sql", f"none of {len(answers)} answers has a SQL block")
        return [{**row, self.keys["output_cot_responses_key"]: list(answers)}]
