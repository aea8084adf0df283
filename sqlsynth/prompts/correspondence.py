"""Prompt for judging whether a question and a SQL query agree (``Text2SQLCorrespondenceFilter``).

The verdict format is part of the template: the answer must end with exactly one line
``VERDICT: YES`` or ``VERDICT: NO``. ``parse_verdict`` is strict on purpose: a judge whose
answer cannot be read has not judged, so the row is rejected as unparseable, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlsynth.prompts.base import optional_block
from sqlsynth.prompts.grammars import REASON_THEN_VERDICT

_VERDICT_LINE = re.compile(r"verdict\s*:\s*(yes|no)", re.IGNORECASE)
_MENTIONS_VERDICT = re.compile(r"\bverdict\s*:", re.IGNORECASE)


@dataclass(frozen=True)
class Verdict:
    """A parsed judgement: whether question and SQL agree, and the judge's stated reason."""

    consistent: bool
    reason: str


def parse_verdict(text: str | None) -> Verdict | None:
    """The verdict of a judge's answer, or None unless it ends with exactly one verdict line.

    The last non-empty line must be ``VERDICT: YES`` or ``VERDICT: NO`` (case and spaces
    around the colon are free; nothing else may be on the line) and no other line may carry a
    verdict. The text before that line is the reason.
    """
    if not text:
        return None
    lines = [line.strip() for line in text.strip().splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return None
    match = _VERDICT_LINE.fullmatch(lines[-1])
    if match is None:
        return None
    if any(_MENTIONS_VERDICT.search(line) for line in lines[:-1]):
        return None
    return Verdict(match.group(1).lower() == "yes", " ".join(lines[:-1]))


class Text2SQLCorrespondenceFilterPrompt:
    """Asks for a short justification and a final YES/NO verdict line."""

    system_prompt = (
        "You review Text-to-SQL training examples. You decide strictly whether a SQL query "
        "answers a question on a given database, and you reply in the required format."
    )
    #: the answer format (GBNF) for backends with constrained decoding
    output_grammar = REASON_THEN_VERDICT

    def build_prompt(
        self, *, engine: str, schema: str, question: str, evidence: str, sql: str
    ) -> str:
        return (
            f"Database ({engine}) schema with example values:\n{schema.strip()}\n\n"
            + optional_block("External knowledge", evidence)
            + f"Question:\n{question.strip()}\n\n"
            f"SQL query:\n```sql\n{sql.strip()}\n```\n\n"
            "Does this query answer exactly this question on this database? Check the tables "
            "and columns, every condition the question states and no others, aggregation, "
            "grouping, ordering, limits, and what is returned. Column aliases do not matter.\n"
            "Reply with one or two sentences of reasoning, then a last line that is exactly "
            "`VERDICT: YES` or `VERDICT: NO`."
        )

    def parse_verdict(self, text: str | None) -> Verdict | None:
        return parse_verdict(text)
