"""``Text2SQLPromptGenerator``: the training prompt of each row (no LLM)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from sqlsynth.operators.base import Reject, Row, RowOutcome, StepContext
from sqlsynth.operators.generate.base import GenerateOperator
from sqlsynth.prompts.text2sql_prompt import Text2SQLPromptGeneratorPrompt

if TYPE_CHECKING:
    from sqlsynth.db.protocol import Database


class Text2SQLPromptGenerator(GenerateOperator):
    """Writes the training prompt of each row (no LLM).

    The prompt holds the instructions, the engine name, the schema with example values, the
    evidence and the question, and asks for step-by-step reasoning ending in a fenced SQL
    block: the format the CoT answers and the execution classifier's solver follow.

    Input columns:
        - question (str): the question (``input_question_key``, default ``question``).
        - db_id (str): the database (``input_db_id_key``, default ``db_id``).
        - evidence (str, optional): the hint (``input_evidence_key``, default ``evidence``).
    Output columns:
        - prompt (str): the training prompt (``output_prompt_key``, default ``prompt``).
    Reject reasons:
        - ``missing_field``: ``question`` or ``db_id`` is missing or empty.
        - ``unknown_db_id``: no such database.
        - ``schema_error``: the database's schema cannot be rendered.
    Example:
        >>> op = Text2SQLPromptGenerator(database_manager=db)
        >>> op.run(storage=storage.step(), input_question_key="question", output_prompt_key="prompt")
    """

    default_keys: ClassVar[dict[str, str]] = {
        "input_question_key": "question",
        "input_db_id_key": "db_id",
        "input_evidence_key": "evidence",
        "output_prompt_key": "prompt",
    }

    def __init__(self, database_manager: Database, prompt_template: Any = None) -> None:
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
