"""Per-run accounting of LLM traffic, shared by every client of one run."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields


@dataclass
class UsageStats:
    """Counters that tell what a run cost and how healthy the server was.

    ``requests`` counts HTTP attempts (or local generations), ``retries`` the attempts that
    were repeated, ``failures`` the calls that finally failed and ``cache_hits`` the answers
    (one per candidate or embedded text) served from the response cache. Updates take a lock,
    so threads and tasks may share one instance.
    """

    requests: int = 0
    cache_hits: int = 0
    retries: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        """Add to one or more counters atomically, e.g. ``add(requests=1, retries=1)``."""
        with self._lock:
            for name, value in counts.items():
                if name.startswith("_") or not hasattr(self, name):
                    raise AttributeError(f"UsageStats has no counter {name!r}")
                setattr(self, name, getattr(self, name) + int(value))

    def snapshot(self) -> dict[str, int]:
        """A consistent copy of all counters."""
        with self._lock:
            return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}

    def reset(self) -> None:
        with self._lock:
            for f in fields(self):
                if not f.name.startswith("_"):
                    setattr(self, f.name, 0)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens
