"""A limit on requests in flight shared by several clients (chat and embeddings together).

``--concurrency N`` promises N requests in flight in all, whatever kind they are; each client
also keeps its own per-endpoint bound. Semaphores belong to an event loop, so the limit keeps
one per loop that uses it, like the clients do.
"""

from __future__ import annotations

import asyncio
import threading
import weakref


class RequestLimit:
    """At most ``size`` requests in flight across every client that holds this object."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"a request limit must be at least 1, got {size}")
        self.size = size
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop,
                                                    asyncio.Semaphore] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RequestLimit({self.size})"

    def semaphore(self) -> asyncio.Semaphore:
        """The running loop's semaphore (made on first use)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            semaphore = self._semaphores.get(loop)
            if semaphore is None:
                semaphore = self._semaphores[loop] = asyncio.Semaphore(self.size)
            return semaphore
