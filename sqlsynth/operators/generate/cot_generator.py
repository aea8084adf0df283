"""``Text2SQLCoTGenerator``: step-by-step reasoning candidates that end in the query."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlsynth.operators.base import Reject, Row, RowOutcome, StepContext
from sqlsynth.operators.generate._common import GenerateOperator, draw_llm_seed
from sqlsynth.prompts.cot_generation import Text2SQLCotGeneratorPrompt
from sqlsynth.sql import extract_sql


class Text2SQLCoTGenerator(GenerateOperator):
    """``sampling_num`` reasoning answers per row, for the voting step to choose from.

    Reads ``SQL``, ``question``, ``evidence`` (optional) and ``db_id``. The reference SQL is
    shown as a hint the answer must not mention, so the reasoning reaches a correct query yet
    reads as if found unaided. Writes the answers, as a list of strings, to
    ``output_cot_responses_key`` (default ``cot_responses``). Answers without a fenced SQL
    block stay in the list (the voter drops them); a row none of whose answers has one is
    rejected as ``no_cot_with_sql``.

    ``output_cot_key`` (default ``cot_reasoning``) is accepted because the reference pipelines
    pass it: it names the column the voting step will fill from these candidates; this step
    does not write it.
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
        llm_serving: Any,
        database_manager: Any,
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
        schema = self.checked_schema(row, self.keys["input_db_id_key"])
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
