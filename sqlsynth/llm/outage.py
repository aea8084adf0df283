"""Riding out an endpoint outage: pause every request, probe with backoff, go on by itself.

Without this, an outage of a minute spends every in-flight row's retries within seconds and
each row fails on its own. With it, once ``failures_to_pause`` attempts in a row have failed
for the endpoint's reasons (5xx, 429, timeouts, resets, garbage bodies), the gate closes: new
attempts wait, and one waiting request at a time is let through as the probe, at growing
intervals (``probe_delay`` doubling up to ``max_probe_delay``, or the server's Retry-After).
Attempts made while the gate is closed do not count against a request's own retries. The first
answer opens the gate again and the run continues as if nothing happened. When the outage has
lasted ``max_outage`` seconds every waiting request fails with ``LLMOutageError`` (a request
failure, so the rows wait for a rerun and the run ends incomplete).

The gate lives on one event loop (like the HTTP client and its semaphore).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from sqlsynth.llm.errors import LLMOutageError

log = logging.getLogger("sqlsynth.llm")

#: the default longest outage a run rides out before it stops incomplete, in seconds
DEFAULT_MAX_OUTAGE = 300.0


@dataclass(frozen=True)
class OutagePolicy:
    """When an outage starts, how it is probed, and how long it may last."""

    failures_to_pause: int = 8
    max_outage: float = DEFAULT_MAX_OUTAGE
    probe_delay: float = 1.0
    max_probe_delay: float = 15.0

    def __post_init__(self) -> None:
        if self.failures_to_pause < 1:
            raise ValueError("failures_to_pause must be at least 1")
        if self.max_outage < 0 or self.probe_delay <= 0 or self.max_probe_delay <= 0:
            raise ValueError("max_outage must be >= 0 and the probe delays > 0")


class OutageGate:
    """Shared by every request of one connection on one loop; see the module docstring."""

    def __init__(self, policy: OutagePolicy, describe: str = "") -> None:
        self.policy = policy
        self.describe = describe
        self.consecutive = 0
        self.since: float | None = None  # monotonic start of the current outage
        self.next_probe_at = 0.0
        self.delay = policy.probe_delay
        self.probing = False
        self.gave_up: str | None = None
        self.dead: BaseException | None = None
        self.outages = 0
        self.last_problem = ""
        self._wake = asyncio.Event()
        self._queue: list[object] = []  # requests waiting for the probe, in arrival order

    @property
    def closed(self) -> bool:
        """Whether requests are being held back (an outage is under way)."""
        return self.since is not None

    def _changed(self) -> None:
        self._wake.set()
        self._wake = asyncio.Event()

    def _give_up(self) -> None:
        if self.gave_up is None:
            lasted = time.monotonic() - (self.since or time.monotonic())
            self.gave_up = (f"the LLM endpoint has been failing for {lasted:.0f}s (max_outage="
                            f"{self.policy.max_outage:g}s), last: {self.last_problem}"
                            f"{' (' + self.describe + ')' if self.describe else ''}")
            # debug: the run's own summary ("N rows are waiting ...") is the one message
            log.debug("giving up on the outage: %s", self.gave_up)
            self._changed()

    async def turn(self) -> bool:
        """Wait until an attempt may be sent; True when this attempt is the outage's probe.

        Waiting requests take the probe in turn (first come, first served, and a failed
        probe queues again at the back), so one request that always fails cannot keep the
        probe to itself while requests that would succeed wait behind it.
        """
        ticket = object()
        try:
            while True:
                if self.dead is not None:
                    raise type(self.dead)(str(self.dead))
                if self.gave_up is not None:
                    raise LLMOutageError(self.gave_up)
                if self.since is None:
                    return False
                if ticket not in self._queue:
                    self._queue.append(ticket)
                now = time.monotonic()
                deadline = self.since + self.policy.max_outage
                if now >= deadline:
                    self._give_up()
                    continue
                due = now >= self.next_probe_at
                if not self.probing and due and self._queue[0] is ticket:
                    self.probing = True
                    self._queue.remove(ticket)
                    return True
                if self.probing or due:  # a probe is out, or it is another request's turn
                    wait = deadline - now
                else:
                    wait = min(self.next_probe_at, deadline) - now
                wake = self._wake
                try:
                    await asyncio.wait_for(wake.wait(), timeout=max(wait, 0.001))
                except asyncio.TimeoutError:
                    pass
        finally:
            if ticket in self._queue:
                first = self._queue[0] is ticket
                self._queue.remove(ticket)
                if first:  # the next in line may be due now
                    self._changed()

    def answered(self, probe: bool) -> None:
        """The endpoint answered (whatever the answer): the outage, if any, is over."""
        self.consecutive = 0
        if probe:
            self.probing = False
        if self.since is not None:
            log.warning("LLM endpoint answers again after %.1fs (%s); continuing",
                        time.monotonic() - self.since, self.describe)
            self.since = None
            self.delay = self.policy.probe_delay
            self._changed()

    def failed(self, probe: bool, problem: str, retry_after: float | None = None, *,
               final: bool = False) -> bool:
        """An attempt failed for the endpoint's reasons. True when the gate is closed now, so
        the attempt is not charged to its request (it waits for the gate instead).

        ``final``: the attempt is its request's last (its retries are spent). That closes the
        gate even below ``failures_to_pause``: a request alone on its connection (the last
        row's embedding, say) would otherwise spend its retries in an outage before enough
        failures in a row were seen, and its row would be lost to an outage the run was
        meant to ride out. A request uses this once (``OpenAIConnection`` keeps count), so
        one request that always fails while others succeed cannot hold the run forever;
        with ``max_outage = 0`` (outages are not ridden out) it is never used.
        """
        self.last_problem = problem
        self.consecutive += 1
        now = time.monotonic()
        if self.since is None:
            if self.consecutive < self.policy.failures_to_pause and not final:
                return False
            self.since = now
            self.outages += 1
            self.delay = self.policy.probe_delay
            self.next_probe_at = now + max(self.delay, retry_after or 0.0)
            log.warning("LLM endpoint failing (%d attempts in a row, last: %s; %s): pausing "
                        "requests and probing for up to %gs", self.consecutive, problem,
                        self.describe, self.policy.max_outage)
            self._changed()
            return True
        if probe:
            self.probing = False
            self.delay = min(self.delay * 2, self.policy.max_probe_delay)
            self.next_probe_at = now + max(self.delay, retry_after or 0.0)
            self._changed()
        return True

    def kill(self, error: BaseException) -> None:
        """The endpoint is unusable for good: every waiting request raises ``error``."""
        self.dead = error
        self._changed()

    def release(self, probe: bool) -> None:
        """The probe ended without a verdict on the endpoint (cancelled, or the request's own
        error): let the next waiting request probe."""
        if probe and self.probing:
            self.probing = False
            self._changed()
