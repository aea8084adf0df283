"""``Text2SQLPromptGenerator``: the training prompt of each row (no LLM)."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlsynth.operators.base import Reject, Row, RowOutcome, StepContext
from sqlsynth.operators.generate._common import GenerateOperator
from sqlsynth.prompts.text2sql_prompt import Text2SQLPromptGeneratorPrompt


class Text2SQLPromptGenerator(GenerateOperator):
    """Reads ``question``, ``evidence`` (optional) and ``db_id``; writes ``prompt``.

    The prompt holds the instructions, the engine name, the schema with example values, the
    evidence and the question, and asks for step-by-step reasoning ending in a fenced SQL
    block: the format the CoT answers and the execution classifier's solver follow.
    """

    default_keys: ClassVar[dict[str, str]] = {
        "input_question_key": "question",
        "input_db_id_key": "db_id",
        "input_evidence_key": "evidence",
        "output_prompt_key": "prompt",
    }

    def __init__(self, database_manager: Any, prompt_template: Any = None) -> None:
        super().__init__(database_manager, prompt_template or Text2SQLPromptGeneratorPrompt())

    def required_input_keys(self) -> list[str]:
        return [self.keys["input_question_key"], self.keys["input_db_id_key"]]

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        schema = self.checked_schema(row, self.keys["input_db_id_key"])
        if isinstance(schema, Reject):
            return schema
        prompt = self.prompt_template.build_prompt(
            engine=self.engine_name,
            schema=schema,
            question=str(row[self.keys["input_question_key"]]),
            evidence=str(row.get(self.keys["input_evidence_key"]) or ""),
        )
        return [{**row, self.keys["output_prompt_key"]: prompt}]
