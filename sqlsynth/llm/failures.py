"""Which rows an LLM endpoint failure touched, whatever the operator did with the exception.

A failed request (the endpoint's fault: 5xx, 429, timeouts, resets, empty answers) says
nothing about the row it served, so the row must wait for a rerun instead of being rejected.
Operators are free to catch ``LLMError`` (many turn it into a ``Reject`` or carry on with fewer
candidates); the runner therefore does not rely on them. It gives each row task its own
``FailureLog`` in a context variable, every client records its final failures there, and a row
whose log is not empty is "waiting on the LLM" whatever its operator returned. Tasks created
inside the row (gathers of candidates) inherit the context, so they record into the same log.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field


@dataclass
class FailureLog:
    """The endpoint failures seen while one row was processed."""

    messages: list[str] = field(default_factory=list)
    #: an ``LLMUnavailableError`` seen on the way (the run must stop, even if it was caught)
    unavailable: BaseException | None = None

    def add(self, message: str) -> None:
        from sqlsynth.redaction import redact_secrets

        self.messages.append(redact_secrets(message))  # it becomes a row's waiting reason

    def __bool__(self) -> bool:
        return bool(self.messages)


_CURRENT: contextvars.ContextVar[FailureLog | None] = contextvars.ContextVar(
    "sqlsynth_llm_failures", default=None)


def watch_failures() -> FailureLog:
    """A fresh log for the running task (and the tasks it creates from now on)."""
    log = FailureLog()
    _CURRENT.set(log)
    return log


def record_failure(message: str) -> None:
    """Note that an LLM request of the current row failed for the endpoint's reasons."""
    log = _CURRENT.get()
    if log is not None:
        log.add(message)


def record_unavailable(error: BaseException) -> None:
    """Note that the endpoint is unusable: the run stops, whatever the operator does next."""
    log = _CURRENT.get()
    if log is not None:
        log.add(str(error))
        if log.unavailable is None:
            log.unavailable = error
