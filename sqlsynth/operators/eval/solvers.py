"""Solvers: turn a row into candidate SQL strings (the ``Solver`` protocol).

``SQLExecutionClassifier`` measures how hard a question is by how often a solver gets it
right; the solver is pluggable so the content-aware engine (``sqlsynth.engine``) can be the one
measured instead of the plain prompt.
"""

from __future__ import annotations

import hashlib
from typing import Any, Protocol, runtime_checkable

from sqlsynth.prompts.grammars import REASONING_THEN_SQL
from sqlsynth.sql import extract_sql

_SEED_RANGE = 2**31 - 1


@runtime_checkable
class Solver(Protocol):
    async def agenerate_sql(self, *, db_id: str, question: str, evidence: str, prompt: str,
                            n: int) -> list[str | None]:
        """``n`` candidate queries (None where an answer holds no SQL)."""
        ...


class PromptSolver:
    """Sends the row's training ``prompt`` as-is and takes the last fenced SQL block of each
    of ``n`` sampled answers (one request with ``n`` choices).

    The request seed is derived from the prompt, so a rerun asks the same request and the
    response cache replays it. ``grammar`` is the answer format (by default bounded
    reasoning then a ```sql block, what the training prompt asks for), applied by backends
    with constrained decoding; None sends no grammar.
    """

    def __init__(self, llm_serving: Any, *, temperature: float = 0.8,
                 max_tokens: int | None = None,
                 grammar: str | None = REASONING_THEN_SQL) -> None:
        if temperature <= 0:
            raise ValueError("PromptSolver samples several answers: temperature must be > 0")
        self.llm_serving = llm_serving
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.grammar = grammar

    async def agenerate_sql(self, *, db_id: str, question: str, evidence: str, prompt: str,
                            n: int) -> list[str | None]:
        digest = hashlib.sha256(f"solver|{prompt}".encode()).digest()
        answers = await self.llm_serving.achat(
            [{"role": "user", "content": prompt}],
            n=n,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            seed=int.from_bytes(digest[:8], "big") % _SEED_RANGE,
            **({"grammar": self.grammar} if self.grammar else {}),
        )
        return [extract_sql(answer) for answer in answers]
