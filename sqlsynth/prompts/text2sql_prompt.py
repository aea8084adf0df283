"""The training prompt a Text-to-SQL model is trained on (``Text2SQLPromptGenerator``)."""

from __future__ import annotations

from sqlsynth.prompts.base import optional_block
from sqlsynth.prompts.grammars import REASONING_THEN_SQL


class Text2SQLPromptGeneratorPrompt:
    """Schema with example values, evidence and question; asks for reasoning, then SQL.

    This text is data, not a request sent by the pipeline: it becomes the ``prompt`` field of
    each training row, so it has no system message.
    """

    system_prompt = ""
    #: the answer format this prompt asks for; a solver answering it may constrain decoding
    output_grammar = REASONING_THEN_SQL

    def build_prompt(self, *, engine: str, schema: str, question: str, evidence: str = "") -> str:
        return (
            f"Task: write a {engine} query that answers the question over the database below.\n\n"
            f"Database schema (with example values):\n{schema.strip()}\n\n"
            + optional_block("External knowledge", evidence)
            + f"Question:\n{question.strip()}\n\n"
            "Instructions:\n"
            "- Use only the tables and columns shown; quote identifiers that need it.\n"
            "- Return exactly the columns the question asks for, in a sensible order.\n"
            "- Think step by step, then give the final query in one ```sql block at the end."
        )
