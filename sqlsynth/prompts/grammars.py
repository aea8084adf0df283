"""Output-format grammars (GBNF) of the prompt templates that expect a fixed answer shape.

A strong model follows "reply in one ```sql block" on its own; a small local one often does
not (it writes prose, a CREATE TABLE, or never closes the block), and every such answer costs
a dropped row. A backend that supports constrained decoding (llama.cpp, locally or through its
server) can instead be handed the format itself, so the answer parses by construction.

Each grammar is GBNF text (llama.cpp's grammar format). Free text is length-bounded with
``{m,n}`` so that a model that would ramble is forced on to the closing part of the format
well before ``max_tokens`` cuts it off mid-answer. The bounds count characters, not tokens:
at about four characters per token the longest format here (reasoning plus query) stays near
500 tokens.
"""

from __future__ import annotations

from typing import Any

#: longest query text (characters) a grammar allows, fences excluded
MAX_SQL_CHARS = 1000
#: longest free reasoning (characters) before the final query
MAX_REASONING_CHARS = 1000
#: shortest reasoning: without a floor a small model skips straight to the query
MIN_REASONING_CHARS = 40
#: longest judge's reason (characters) before the verdict line
MAX_REASON_CHARS = 300
MAX_QUESTION_CHARS = 400
MAX_EVIDENCE_CHARS = 300


def _sql_rules(max_sql_chars: int) -> str:
    # One read-only statement: starts with SELECT or WITH, no backtick (which would end the
    # fence early) and no semicolon except an optional final one (no second statement).
    return (f'query ::= ("SELECT" | "WITH") [ \\n] sqlchar{{1,{max_sql_chars}}} ";"?\n'
            "sqlchar ::= [^`;]\n")


def sql_block_grammar(max_sql_chars: int = MAX_SQL_CHARS) -> str:
    """Exactly one ```sql fenced block holding one SELECT/WITH query, and nothing else."""
    return 'root ::= "```sql\\n" query "\\n```"\n' + _sql_rules(max_sql_chars)


def reasoning_then_sql_grammar(max_reasoning_chars: int = MAX_REASONING_CHARS,
                               max_sql_chars: int = MAX_SQL_CHARS, *,
                               min_reasoning_chars: int = MIN_REASONING_CHARS) -> str:
    """Free reasoning of bounded length (no backticks, starting with a visible character),
    then the ```sql block."""
    low = max(min_reasoning_chars - 1, 0)
    return ('root ::= reasoning "```sql\\n" query "\\n```"\n'
            f"reasoning ::= [^`\\n ] [^`]{{{low},{max_reasoning_chars - 1}}}\n"
            + _sql_rules(max_sql_chars))


def question_evidence_grammar(*, evidence_required: bool,
                              max_question_chars: int = MAX_QUESTION_CHARS,
                              max_evidence_chars: int = MAX_EVIDENCE_CHARS) -> str:
    """``<question>...</question>`` then ``<evidence>...</evidence>``.

    The question may span lines (the multi-turn dialogue style); neither part may contain
    '<', so a tag can only be the closing one. Required evidence starts with a visible
    character; optional evidence may be empty.
    """
    if evidence_required:
        evidence = f"[^<>`\\n ] [^<>`]{{0,{max_evidence_chars - 1}}}"
    else:
        evidence = f"[^<>`]{{0,{max_evidence_chars}}}"
    return ('root ::= "<question>" question "</question>\\n<evidence>" evidence '
            '"</evidence>"\n'
            f"question ::= [^<>`\\n ] [^<>`]{{0,{max_question_chars - 1}}}\n"
            f"evidence ::= {evidence}\n")


def reason_then_verdict_grammar(max_reason_chars: int = MAX_REASON_CHARS) -> str:
    """One line of reasoning, then a last line ``VERDICT: YES`` or ``VERDICT: NO``.

    The reason has no ':' so it cannot carry a second "verdict:" (``parse_verdict`` wants
    exactly one), and no newline so the verdict line follows it directly.
    """
    return ('root ::= reason "\\nVERDICT: " ("YES" | "NO")\n'
            f"reason ::= [^\\n:` ] [^\\n:]{{0,{max_reason_chars - 1}}}\n")


#: a ```sql block with one SELECT/WITH query (SQL generation and variation)
SQL_BLOCK = sql_block_grammar()
#: bounded reasoning, then a ```sql block (CoT generation, solvers of the training prompt)
REASONING_THEN_SQL = reasoning_then_sql_grammar()
#: question and (possibly empty) evidence tags (question generation)
QUESTION_EVIDENCE = question_evidence_grammar(evidence_required=False)
#: question and non-empty evidence tags (question styles that need evidence)
QUESTION_REQUIRED_EVIDENCE = question_evidence_grammar(evidence_required=True)
#: short reason, then the verdict line (correspondence judge)
REASON_THEN_VERDICT = reason_then_verdict_grammar()

ALL_GRAMMARS: dict[str, str] = {
    "SQL_BLOCK": SQL_BLOCK,
    "REASONING_THEN_SQL": REASONING_THEN_SQL,
    "QUESTION_EVIDENCE": QUESTION_EVIDENCE,
    "QUESTION_REQUIRED_EVIDENCE": QUESTION_REQUIRED_EVIDENCE,
    "REASON_THEN_VERDICT": REASON_THEN_VERDICT,
}


def grammar_of(template: Any, attribute: str = "output_grammar") -> str | None:
    """A template's output grammar, or None when it declares none.

    User templates need not declare one; a callable attribute is called with no arguments,
    and an empty value counts as none.
    """
    grammar = getattr(template, attribute, None)
    if callable(grammar):
        grammar = grammar()
    if grammar is None:
        return None
    if not isinstance(grammar, str):
        raise TypeError(f"{type(template).__name__}.{attribute} must be GBNF text (str), got "
                        f"{type(grammar).__name__}")
    return grammar if grammar.strip() else None
