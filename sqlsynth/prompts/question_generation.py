"""Prompt for writing the natural-language question a query answers
(``Text2SQLQuestionGenerator``), and the strict parser of its answers."""

from __future__ import annotations

import re

from sqlsynth.prompts.grammars import QUESTION_EVIDENCE, QUESTION_REQUIRED_EVIDENCE

#: question style -> how a question of that style reads
QUESTION_STYLES: dict[str, str] = {
    "Formal": "a complete, grammatical request in a formal register",
    "Colloquial": "casual everyday speech, as if asking a colleague",
    "Imperative": "a command, such as 'List ...' or 'Show ...'",
    "Interrogative": "a direct question starting with a question word",
    "Descriptive": "first describe the information needed in some detail, then ask for it",
    "Concise": "as short as possible while still complete",
    "Vague": "loose everyday words instead of exact column names or values",
    "Metaphorical": "a figure of speech or idiom in place of a condition or value",
    "Multi-turn Dialogue": "a short exchange: 'User: ...' / 'Assistant: ...' lines, ending with"
    " the user turn that completes the request",
}

#: styles whose wording needs external knowledge to map it onto the database
KNOWLEDGE_STYLES = frozenset({"Vague", "Metaphorical"})

QUESTION_OPEN, QUESTION_CLOSE = "<question>", "</question>"
EVIDENCE_OPEN, EVIDENCE_CLOSE = "<evidence>", "</evidence>"

_QUESTION = re.compile(f"{re.escape(QUESTION_OPEN)}(.*?){re.escape(QUESTION_CLOSE)}", re.DOTALL)
_EVIDENCE = re.compile(f"{re.escape(EVIDENCE_OPEN)}(.*?){re.escape(EVIDENCE_CLOSE)}", re.DOTALL)
_EMPTY_EVIDENCE = {"", "none", "n/a", "-", "empty", "(none)", "(empty)"}
#: the format line's placeholders; an answer that copies them says nothing
QUESTION_PLACEHOLDER, EVIDENCE_PLACEHOLDER = "the request", "the evidence"


class Text2SQLQuestionGeneratorPrompt:
    """Asks for the question in one style, plus evidence that maps its wording onto the data.

    Vague and Metaphorical questions must come with evidence explaining their wording in
    database terms; for the other styles the evidence is a short hint or empty.
    """

    system_prompt = (
        "You write the natural-language request that a given SQL query answers, as a real "
        "user of the database would phrase it."
    )
    #: the answer format (GBNF) for backends with constrained decoding
    output_grammar = QUESTION_EVIDENCE
    #: the format when the style requires evidence (it may not be empty)
    output_grammar_with_evidence = QUESTION_REQUIRED_EVIDENCE

    def build_prompt(
        self, *, engine: str, schema: str, sql: str, style: str, needs_evidence: bool
    ) -> str:
        how = QUESTION_STYLES.get(style, style)
        if needs_evidence:
            evidence_rule = (
                "In the evidence, explain every vague or figurative phrase in database terms "
                "(the columns, values or formulas it stands for)."
            )
        else:
            evidence_rule = (
                "In the evidence, give a one-line hint mapping a term to a column, value or "
                "formula only if the question cannot be answered without it; else leave it empty."
            )
        return (
            f"Database ({engine}):\n{schema.strip()}\n\n"
            f"SQL:\n```sql\n{sql.strip()}\n```\n\n"
            f"Write the request this SQL answers. Style: {style} - {how}.\n"
            "Ask for exactly what the SQL returns, with every condition, ordering and limit, "
            f"without naming SQL syntax. {evidence_rule}\n\n"
            f"Answer with the request between {QUESTION_OPEN} and {QUESTION_CLOSE}, then the "
            f"evidence between {EVIDENCE_OPEN} and {EVIDENCE_CLOSE}, and nothing else."
        )

    def parse_response(self, text: str, *, needs_evidence: bool) -> tuple[str, str] | None:
        return parse_question_response(text, needs_evidence=needs_evidence)


def parse_question_response(text: str | None, *, needs_evidence: bool) -> tuple[str, str] | None:
    """(question, evidence), or None when the answer does not follow the format.

    Strict on purpose: exactly one non-empty question block and at most one evidence block;
    when ``needs_evidence`` the evidence must be present and non-empty. A candidate that breaks
    the format is discarded rather than guessed at.
    """
    if not text:
        return None
    questions = _QUESTION.findall(text)
    evidences = _EVIDENCE.findall(text)
    if len(questions) != 1 or len(evidences) > 1:
        return None
    question = questions[0].strip()
    evidence = evidences[0].strip() if evidences else ""
    if evidence.lower() in _EMPTY_EVIDENCE:
        evidence = ""
    if question.lower().strip(" .") == QUESTION_PLACEHOLDER:
        return None  # the format line copied back, not a question
    if evidence.lower().strip(" .") == EVIDENCE_PLACEHOLDER:
        evidence = ""
    if not question or QUESTION_OPEN in question or EVIDENCE_OPEN in question:
        return None
    if needs_evidence and not evidence:
        return None
    return question, evidence
