"""Prompts that fit the model's context: the schema is pruned to the tables a question needs.

A small local model has a context of a few thousand tokens; a real database's schema with
example values is often longer. Sending it anyway fails the request ("Requested tokens exceed
context window"). Instead the tables are ranked by how much of the question (and SQL, if any)
names them or their columns, their foreign-key neighbours follow, and the longest prefix of
that ranking whose prompt fits is kept; the caller records which tables were left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

#: tokens kept free for the answer and for what later stages add (knowledge, a failed SQL)
DEFAULT_RESERVE = 768
#: characters per token assumed when the model cannot count (low, so estimates run long)
CHARS_PER_TOKEN = 3.0
#: tokens a chat template adds around each message
PER_MESSAGE_TOKENS = 8

_WORD = re.compile(r"[A-Za-z][a-z]+|[A-Z]+(?![a-z])|\d+")


def estimate_tokens(text: str) -> int:
    return int(len(text) / CHARS_PER_TOKEN) + 1


@dataclass(frozen=True)
class ContextBudget:
    """How many tokens a prompt may have, and how to count them, for one model."""

    window: int
    count: Callable[[str], int] = estimate_tokens
    reserve: int = DEFAULT_RESERVE

    @property
    def limit(self) -> int:
        return max(self.window - self.reserve, self.window // 2)

    def messages_tokens(self, messages: Sequence[dict[str, Any]]) -> int:
        return sum(self.count(str(m.get("content") or "")) + PER_MESSAGE_TOKENS
                   for m in messages)

    def fits(self, messages: Sequence[dict[str, Any]]) -> bool:
        return self.messages_tokens(messages) <= self.limit


def budget_of(llm: Any, reserve: int = DEFAULT_RESERVE) -> ContextBudget | None:
    """The model's budget when it declares a context window (the local model does)."""
    window = getattr(llm, "context_window", None)
    if not isinstance(window, int) or window <= 0:
        return None
    count = getattr(llm, "count_tokens", None)
    return ContextBudget(window, count if callable(count) else estimate_tokens,
                         min(reserve, window // 3))


def _words(text: str) -> set[str]:
    out = set()
    for word in _WORD.findall(text.replace("_", " ")):
        low = word.lower()
        out.add(low)
        if len(low) > 3 and low.endswith("s"):
            out.add(low[:-1])
    return out


def rank_tables(schema: Any, text: str) -> list[Any]:
    """Tables by relevance to ``text``: names, then columns; ties keep the schema's order."""
    wanted = _words(text)
    lowered = text.lower()

    def score(item: tuple[int, Any]) -> tuple[float, int]:
        position, table = item
        s = 0.0
        if table.name.lower() in lowered:
            s += 10
        s += 4 * len(_words(table.name) & wanted)
        for column in table.columns:
            if column.name.lower() in lowered:
                s += 2
            s += len(_words(column.name) & wanted)
        return (-s, position)

    return [t for _, t in sorted(enumerate(schema.tables), key=score)]


def _with_neighbours(ranked: list[Any], schema: Any) -> list[Any]:
    """After each table, the tables it references or is referenced by (joins need them)."""
    by_name = {t.name.lower(): t for t in schema.tables}
    order: list[Any] = []
    seen: set[str] = set()

    def add(table: Any) -> None:
        if table.name.lower() not in seen:
            seen.add(table.name.lower())
            order.append(table)

    for table in ranked:
        add(table)
        for fk in table.foreign_keys:
            if fk.ref_table.lower() in by_name:
                add(by_name[fk.ref_table.lower()])
        for other in schema.tables:
            refers = any(fk.ref_table.lower() == table.name.lower() for fk in other.foreign_keys)
            if refers and other in ranked[: ranked.index(table) + 1]:
                add(other)
    return order


def fit_schema(schema: Any, text: str, fits: Callable[[Any], bool]) -> tuple[Any, list[str]]:
    """The schema itself when ``fits(schema)``, else its most relevant tables that fit.

    Returns the (possibly smaller) schema and the names of the tables left out. At least one
    table is always kept: a prompt that still does not fit then fails as a request, which the
    caller reports as such.
    """
    if fits(schema) or len(schema.tables) <= 1:
        return schema, []
    order = _with_neighbours(rank_tables(schema, text), schema)
    low, high = 1, len(order) - 1  # the largest prefix length that fits, by bisection
    best = 1
    while low <= high:
        middle = (low + high) // 2
        if fits(replace(schema, tables=_in_schema_order(schema, order[:middle]))):
            best, low = middle, middle + 1
        else:
            high = middle - 1
    kept = _in_schema_order(schema, order[:best])
    kept_names = {t.name for t in kept}
    return replace(schema, tables=kept), [t.name for t in schema.tables
                                          if t.name not in kept_names]


def _in_schema_order(schema: Any, tables: list[Any]) -> list[Any]:
    chosen = {id(t) for t in tables}
    return [t for t in schema.tables if id(t) in chosen]


def pruned_note(dropped: list[str], total: int) -> str:
    shown = ", ".join(dropped[:10]) + (f" and {len(dropped) - 10} more" if len(dropped) > 10
                                       else "")
    return (f"schema pruned to fit the model's context: {total - len(dropped)} of {total} "
            f"tables kept; left out: {shown}")
