"""Limits on requests in flight: shared by several clients, and served by priority.

``--concurrency N`` promises N requests in flight in all, whatever kind they are; each client
also keeps its own per-endpoint bound. Semaphores belong to an event loop, so the limit keeps
one per loop that uses it, like the clients do.

When requests queue for a slot, the pipeline runner's order decides how long the run takes:
each row is a chain of round trips, and serving the requests of rows with the most round
trips still ahead of them first (the request's ``REQUEST_PRIORITY``, the runner sets it to the
step's index, so earlier steps go first) keeps every slot busy until the end instead of
leaving a tail of rows that still have several round trips to make one after another (Hu's
rule: for chains of equal-length tasks, longest remaining chain first gives the shortest
schedule). Equal priorities are served first come, first served.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
import threading
import weakref

#: lower is served first; the runner sets it to the step index of the row being processed
REQUEST_PRIORITY: contextvars.ContextVar[int] = contextvars.ContextVar(
    "sqlsynth_request_priority", default=0)


class PrioritySemaphore:
    """An ``asyncio.Semaphore`` whose waiters are served by ``REQUEST_PRIORITY``, then FIFO.

    A waiter is granted its slot directly (the count never passes through zero in between),
    so a request arriving later with a lower priority value cannot take a slot that was
    already handed to a waiter.
    """

    def __init__(self, value: int) -> None:
        if value < 0:
            raise ValueError("a semaphore's value must be >= 0")
        self._value = value
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def locked(self) -> bool:
        return self._value == 0

    async def acquire(self) -> bool:
        if self._value > 0 and not self._waiters:
            self._value -= 1
            return True
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (REQUEST_PRIORITY.get(), next(self._order), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():  # granted, then cancelled: pass on
                self.release()
            raise
        return True

    def release(self) -> None:
        self._value += 1
        while self._value > 0 and self._waiters:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():  # skip waiters that were cancelled
                self._value -= 1
                future.set_result(None)

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self.release()


class RequestLimit:
    """At most ``size`` requests in flight across every client that holds this object."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"a request limit must be at least 1, got {size}")
        self.size = size
        self._semaphores: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, PrioritySemaphore] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RequestLimit({self.size})"

    def semaphore(self) -> PrioritySemaphore:
        """The running loop's semaphore (made on first use)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            semaphore = self._semaphores.get(loop)
            if semaphore is None:
                semaphore = self._semaphores[loop] = PrioritySemaphore(self.size)
            return semaphore
