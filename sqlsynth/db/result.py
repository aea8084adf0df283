"""Outcome of running one SQL statement: a status plus the rows, never an exception.

Callers (filters, voting, evaluation) branch on the status, so every failure mode of
untrusted SQL is a value here rather than something to catch.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class ExecStatus(str, Enum):
    """Why a statement did or did not produce rows.

    SYNTAX_ERROR is reserved for statements the engine cannot parse; statements that parse
    but name a missing table/column, or fail while running, are RUNTIME_ERROR on every engine.
    """

    OK = "ok"
    SYNTAX_ERROR = "syntax_error"
    RUNTIME_ERROR = "runtime_error"
    TIMEOUT = "timeout"
    FORBIDDEN = "forbidden"
    UNKNOWN_DB = "unknown_db"
    TOO_LARGE = "too_large"


@dataclass(frozen=True)
class ExecResult:
    """Rows and metadata of one execution (or EXPLAIN) of one statement."""

    status: ExecStatus
    columns: tuple[str, ...] = ()
    rows: tuple[tuple, ...] = ()
    elapsed: float = 0.0
    error: str | None = None
    error_class: str | None = None
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.status is ExecStatus.OK

    @classmethod
    def failure(
        cls,
        status: ExecStatus,
        error: str,
        error_class: str | None = None,
        elapsed: float = 0.0,
    ) -> ExecResult:
        return cls(status=status, error=error, error_class=error_class, elapsed=elapsed)
