"""A bounded memo for the pure functions of a statement's text that a run calls again and again.

A row's candidates repeat (ten solver answers, three CoT samples, often the same SQL), and each
comparison asked the same question of the same text: does it order its output, what is its
duplicate key. Parsing was the largest single CPU cost of a run after HTTP (bench/pipeline.py,
cProfile). Only short texts are kept, so the memo stays small whatever the model writes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: statements longer than this are computed every time (a memo entry holds its text)
MAX_MEMO_CHARS = 4096


def memo_by_text(maxsize: int = 4096) -> Callable[[Callable[[str, str], T]],
                                                   Callable[[str, str], T]]:
    """Memoize ``f(sql, dialect)``, a pure function, for texts up to ``MAX_MEMO_CHARS``.

    >>> calls = []
    >>> @memo_by_text()
    ... def length(sql: str, dialect: str = "sqlite") -> int:
    ...     calls.append(sql)
    ...     return len(sql)
    >>> length("SELECT 1", "sqlite"), length("SELECT 1", "sqlite"), len(calls)
    (8, 8, 1)
    """

    def wrap(f: Callable[[str, str], T]) -> Callable[[str, str], T]:
        cached = functools.lru_cache(maxsize=maxsize)(f)

        @functools.wraps(f)
        def call(sql: str, dialect: str = "sqlite") -> T:
            if isinstance(sql, str) and len(sql) <= MAX_MEMO_CHARS:
                return cached(sql, dialect)
            return f(sql, dialect)

        call.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
        return call

    return wrap
