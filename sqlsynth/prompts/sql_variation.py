"""Prompt for rewriting an existing query into a variation of a given kind
(``SQLVariationGenerator``)."""

from __future__ import annotations

from sqlsynth.prompts.grammars import SQL_BLOCK

#: variation kind -> what the rewrite should change
VARIATION_KINDS: dict[str, str] = {
    "Data Value Changes": "keep the structure but change filter constants, ranges or thresholds"
    " to other values that exist in the data",
    "Query Structure Changes": "return related information with a different structure, e.g."
    " a join instead of a subquery, EXISTS instead of IN, a different grouping",
    "Business Logic Changes": "answer a related but different business question over the same"
    " tables (another metric, condition or ranking)",
    "Complexity Enhancements": "make it more demanding by adding a meaningful condition, join,"
    " aggregation or subquery",
    "Advanced SQL Features": "use a CTE, window function, CASE expression or set operation"
    " where it adds meaning",
    "Performance Rewrites": "rewrite it to run faster (filter early, drop needless subqueries,"
    " DISTINCT or sorting) while returning the same result",
}


class SQLVariationGeneratorPrompt:
    """Asks for one rewrite of a query, of one kind, over the same database."""

    system_prompt = (
        "You are an expert SQL author. You rewrite queries into correct, executable, read-only "
        "variations."
    )
    #: the answer format (GBNF) for backends with constrained decoding
    output_grammar = SQL_BLOCK

    def build_prompt(self, *, engine: str, schema: str, sql: str, variation_type: str) -> str:
        """``schema`` is the compact schema with example values."""
        how = VARIATION_KINDS.get(variation_type, variation_type)
        return (
            f"Database ({engine}):\n{schema.strip()}\n\n"
            f"Original query:\n```sql\n{sql.strip()}\n```\n\n"
            f"Write one variation of it. Kind: {variation_type} - {how}.\n"
            "The variation must differ from the original, use only the schema above, stay "
            f"valid {engine} and must not modify data.\n"
            "Reply with the query in one ```sql block and nothing else."
        )
