"""Prompt for writing one new SELECT query over a database (``SQLGenerator``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlsynth.prompts.base import optional_block
from sqlsynth.prompts.grammars import SQL_BLOCK

#: complexity level -> the SQL features a query of that level uses
COMPLEXITY_LEVELS: dict[str, str] = {
    "Simple": "one table; plain column selection with WHERE filters, ORDER BY or LIMIT",
    "Moderate": "a join of two tables, or GROUP BY with aggregates (COUNT, SUM, AVG, MIN, MAX)"
    " and possibly HAVING",
    "Complex": "joins of several tables combined with aggregation, a subquery, or CASE expressions",
    "Highly Complex": "several advanced constructs together: CTEs (WITH), window functions"
    " (RANK, ROW_NUMBER, running totals), nested or correlated subqueries, set operations",
}


#: the Spider hardness level each complexity level asks for (mixed mode's examples)
HARDNESS_OF_COMPLEXITY: dict[str, str] = {
    "Simple": "easy", "Moderate": "medium", "Complex": "hard", "Highly Complex": "extra",
}


class SelectSQLGeneratorPrompt:
    """Asks for one realistic, read-only query of a given complexity, grounded in real values."""

    system_prompt = (
        "You are an expert SQL author. You write correct, executable, read-only queries that "
        "answer questions a real user of the data would ask."
    )
    #: the answer format (GBNF) for backends with constrained decoding
    output_grammar = SQL_BLOCK

    def build_prompt(
        self,
        *,
        engine: str,
        schema: str,
        sample_rows: str,
        complexity: str,
        functions: Sequence[tuple[str, str]] = (),
        column_count: int = 1,
        examples: Sequence[str] = (),
    ) -> str:
        """``functions`` are (signature, description) pairs; ``column_count`` is a target;
        ``examples``: SQL of the drawn level sampled from this database (mixed mode)."""
        level = COMPLEXITY_LEVELS.get(complexity, "")
        level_line = f"Complexity: {complexity}" + (f" ({level})." if level else ".")
        func_lines = "\n".join(f"- {sig}: {desc}" for sig, desc in functions)
        plural = "" if column_count == 1 else "s"
        return (
            f"Write one {engine} SELECT query for this database.\n\n"
            f"Schema:\n{schema.strip()}\n\n"
            + optional_block("Sample rows (take filter values from these)", sample_rows)
            + f"{level_line}\n"
            + optional_block("Examples of this complexity on this database (write a different "
                             "query)", "\n".join(f"{sql.strip()};" for sql in examples))
            + optional_block("Use where it fits naturally", func_lines)
            + f"Return about {column_count} column{plural}. Use only the tables and columns "
            "above; the query must be meaningful and must not modify data.\n"
            "Reply with the query in one ```sql block and nothing else."
        )
