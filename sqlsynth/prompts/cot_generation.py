"""Prompt for step-by-step reasoning that ends in the query (``Text2SQLCoTGenerator``)."""

from __future__ import annotations

from sqlsynth.prompts.base import schema_and_question
from sqlsynth.prompts.grammars import REASONING_THEN_SQL


class Text2SQLCotGeneratorPrompt:
    """Reasoning toward a known-correct query, written as if found without it.

    The reference query is a hint that keeps the reasoning correct; the answer must not
    mention it, because it becomes a training target for a model that never sees the hint.
    """

    system_prompt = (
        "You are an expert in translating questions into SQL. You reason step by step and "
        "finish with the query."
    )
    #: the answer format (GBNF) for backends with constrained decoding
    output_grammar = REASONING_THEN_SQL

    def build_prompt(
        self, *, engine: str, schema: str, question: str, evidence: str, sql: str
    ) -> str:
        return (
            schema_and_question(engine=engine, schema=schema, question=question, evidence=evidence)
            + f"Hint, a correct query:\n```sql\n{sql.strip()}\n```\n\n"
            f"Explain step by step how to write a {engine} query answering the question: the "
            "tables and columns needed, joins, filters, grouping, ordering and output columns. "
            "Reason as if solving it yourself: never mention or allude to the hint or a "
            "reference query. End with the final query in one ```sql block."
        )
