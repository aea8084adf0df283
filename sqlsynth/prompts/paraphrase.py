"""Prompt for rewriting a canonical question in natural words (``Text2SQLQuestionParaphraser``).

The canonical question is correct but reads like a template ("List the name of the customers
whose country is 'Spain'."); the rewrite must ask for exactly the same thing. The answer is
the question alone, on one line; ``parse_paraphrase`` takes its first non-empty line.
"""

from __future__ import annotations

import re

from sqlsynth.prompts.base import optional_block

_LEAD = re.compile(r"^\s*(?:paraphrase|rewritten question|question|rewrite)\s*:\s*", re.IGNORECASE)


def parse_paraphrase(text: str | None) -> str:
    """The rewritten question: the first non-empty line, without a label or quotes."""
    for line in (text or "").splitlines():
        line = _LEAD.sub("", line.strip()).strip()
        if len(line) >= 2 and line[0] == line[-1] and line[0] in "\"'`":
            line = line[1:-1].strip()
        if line:
            return line
    return ""


class Text2SQLQuestionParaphrasePrompt:
    """Asks for one natural rewrite that keeps every condition, value and ordering."""

    system_prompt = ("You rewrite database questions so they sound like a person asked them. "
                     "You never change what is asked.")

    def build_prompt(self, *, question: str, evidence: str = "") -> str:
        return (
            "Rewrite the question below in plain, natural English, as a user would ask it.\n"
            "Keep every condition, every value exactly as written (including quotes' "
            "contents and numbers), the ordering and the number of results asked for. Do not "
            "mention SQL, tables or columns by their technical names when a plain word says "
            "the same.\n\n"
            + optional_block("External knowledge", evidence)
            + f"Question:\n{question.strip()}\n\n"
            "Answer with the rewritten question only, on one line."
        )
