"""A small per-database connection pool that also bounds concurrency per database."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class ConnectionPool:
    """At most `size` connections in use at once; idle ones are reused, broken ones dropped."""

    def __init__(self, factory: Callable[[], Any], closer: Callable[[Any], None], size: int):
        self._factory = factory
        self._closer = closer
        self._slots = threading.BoundedSemaphore(max(1, size))
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        self._closed = False
        self.in_use = 0
        self.peak_in_use = 0  # highest concurrency seen; lets tests check the bound

    @contextmanager
    def connection(self) -> Iterator[PooledConnection]:
        self._slots.acquire()
        with self._lock:
            raw = self._idle.pop() if self._idle else None
            self.in_use += 1
            self.peak_in_use = max(self.peak_in_use, self.in_use)
        handle: PooledConnection | None = None
        try:
            handle = PooledConnection(self._factory() if raw is None else raw)
            yield handle
        except BaseException:
            if handle is not None:
                handle.discard = True
            raise
        finally:
            with self._lock:
                self.in_use -= 1
                keep = handle is not None and not handle.discard and not self._closed
                if keep:
                    self._idle.append(handle.raw)
            if handle is not None and not keep:
                self._closer(handle.raw)
            self._slots.release()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for raw in idle:
            self._closer(raw)


class PooledConnection:
    """A borrowed connection; set `discard` when its state can no longer be trusted."""

    __slots__ = ("discard", "raw")

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.discard = False
