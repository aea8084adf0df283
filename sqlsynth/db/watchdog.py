"""One background thread that fires backup interrupts for queries that outlive their deadline.

Engines stop queries themselves (progress handler, server-side statement timeouts); this is the
second line for when that fails, without starting a timer thread per query.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Alarm:
    __slots__ = ("callback", "cancelled", "fired")

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback
        self.cancelled = False
        self.fired = False


class Watchdog:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Alarm]] = []
        self._cond = threading.Condition()
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, when: float, callback: Callable[[], None]) -> Alarm:
        """Call `callback` at monotonic time `when` unless disarmed before."""
        alarm = Alarm(callback)
        with self._cond:
            heapq.heappush(self._heap, (when, next(self._ids), alarm))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="sqlsynth-watchdog", daemon=True
                )
                self._thread.start()
            self._cond.notify()
        return alarm

    def disarm(self, alarm: Alarm) -> bool:
        """Cancel an alarm; returns whether it had already fired."""
        with self._cond:
            alarm.cancelled = True
            return alarm.fired

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][2].cancelled:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait(timeout=30.0)
                    if not self._heap:
                        self._thread = None
                        return
                    continue
                when, _, alarm = self._heap[0]
                delay = when - time.monotonic()
                if delay > 0:
                    self._cond.wait(timeout=delay)
                    continue
                heapq.heappop(self._heap)
                alarm.fired = True
            try:
                alarm.callback()
            except Exception:  # an interrupt that fails must not kill the watchdog
                log.warning("backup query interrupt failed", exc_info=True)


WATCHDOG = Watchdog()
