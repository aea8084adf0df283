"""Solvers: turn a row into candidate SQL strings (the ``Solver`` protocol).

``SQLExecutionClassifier`` measures how hard a question is by how often a solver gets it
right; the solver is pluggable so the content-aware engine (``sqlsynth.engine``) can be the one
measured instead of the plain prompt.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from sqlsynth.prompts.grammars import REASONING_THEN_SQL
from sqlsynth.sql import extract_sql

if TYPE_CHECKING:
    from sqlsynth.db.protocol import Database
    from sqlsynth.llm.base import ChatModel

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

    def __init__(self, llm_serving: ChatModel, *, temperature: float = 0.8,
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


class SharedSolver:
    """A solver whose answers are asked for once and read twice.

    ``Text2SQLRoundTripFilter`` and ``SQLExecutionClassifier`` measure the same thing (how often
    a solver reproduces the row's result from its question); given one ``SharedSolver`` they
    pay for the solver's calls once: the first request for a row is sent, the second identical
    request (same row fields and ``n``) takes the stored answers and frees them. At most
    ``max_entries`` rows wait for their second reader; beyond that the oldest are forgotten
    (their second reader then asks again, which costs a call but changes no answer: the
    requests are seeded and cached).
    """

    def __init__(self, solver: Solver, *, max_entries: int = 8192) -> None:
        self.solver = solver
        self.max_entries = max_entries
        self._answers: dict[tuple, list[str | None]] = {}
        self._pending: dict[tuple, Any] = {}
        self._waited: set[tuple] = set()
        self.calls = 0

    @property
    def llm_serving(self) -> Any:
        return getattr(self.solver, "llm_serving", None)

    async def agenerate_sql(self, *, db_id: str, question: str, evidence: str, prompt: str,
                            n: int) -> list[str | None]:
        key = (db_id, question, evidence, prompt, n)
        if key in self._answers:
            return self._answers.pop(key)
        if key in self._pending:  # the other reader is asking right now: wait for its answers
            self._waited.add(key)
            return list(await asyncio.shield(self._pending[key]))
        task = asyncio.ensure_future(self.solver.agenerate_sql(
            db_id=db_id, question=question, evidence=evidence, prompt=prompt, n=n))
        self._pending[key] = task
        try:
            answers = list(await task)
        finally:
            self._pending.pop(key, None)
        self.calls += 1
        if key in self._waited:  # both readers have their answers: nothing to keep
            self._waited.discard(key)
            return list(answers)
        self._answers[key] = answers
        while len(self._answers) > self.max_entries:
            self._answers.pop(next(iter(self._answers)))
        return list(answers)

    async def aclose(self) -> None:
        close = getattr(self.solver, "aclose", None)
        if close is not None:
            await close()


def uses_prompt(solver: Any) -> bool:
    """Whether the solver answers from the row's training ``prompt`` (the plain prompt one)."""
    inner = solver.solver if isinstance(solver, SharedSolver) else solver
    return isinstance(inner, PromptSolver)


async def solver_answers(solver: Solver, database_manager: Database, row: dict[str, Any],
                         keys: dict[str, str], *, gold: Any, gold_sql: str,
                         n: int) -> tuple[list[str | None], dict[str, bool]]:
    """The solver's ``n`` answers to a row's question, and for each distinct answer whether it
    returns the same result as ``gold`` (the row's SQL, already executed).

    One measurement serves two operators: the round-trip filter (how many answers reach the
    row's result) and ``SQLExecutionClassifier`` (how hard the question is). ``LLMError``
    propagates: what a failed request means is the caller's decision.
    """
    answers, results, ordered = await solver_results(solver, database_manager, row, keys,
                                                     gold_sql=gold_sql, n=n)
    from sqlsynth.db.compare import results_match

    # results_match never counts an answer cut at the row cap as the same answer
    return answers, {a: results_match(gold, res, ordered=ordered) for a, res in results.items()}


async def solver_results(solver: Solver, database_manager: Database, row: dict[str, Any],
                         keys: dict[str, str], *, gold_sql: str,
                         n: int) -> tuple[list[str | None], dict[str, Any], bool]:
    """The solver's ``n`` answers, each distinct answer's execution result, and whether the
    row's SQL orders its output (the comparison to use)."""
    from sqlsynth.db.compare import query_orders_output
    from sqlsynth.operators.helpers import dialect_of

    db_id = str(row[keys["input_db_id_key"]])
    answers = await solver.agenerate_sql(
        db_id=db_id,
        question=str(row.get(keys["input_question_key"]) or ""),
        evidence=str(row.get(keys["input_evidence_key"]) or ""),
        prompt=str(row.get(keys["input_prompt_key"]) or ""),
        n=n,
    )
    unique = list(dict.fromkeys(a for a in answers if a))
    results = await database_manager.aexecute_many([(db_id, a) for a in unique])
    ordered = query_orders_output(gold_sql, dialect_of(database_manager))
    return answers, dict(zip(unique, results)), ordered
