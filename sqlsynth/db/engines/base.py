"""What every engine provides, and the shared run loop (deadline, row cap, size cap).

Engine methods here run SQL *without* the statement guard: they are the second wall
(read-only connections) and are only reached through `DatabaseManager`, which guards first.
"""

from __future__ import annotations

import contextlib
import sys
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from sqlsynth.db.engines.metering import ResultTooLarge
from sqlsynth.db.pool import PooledConnection
from sqlsynth.db.result import ExecResult, ExecStatus
from sqlsynth.db.schema import Table
from sqlsynth.db.watchdog import WATCHDOG

BACKUP_GRACE = 0.5  # seconds after the deadline before the client-side interrupt fires


@dataclass
class RunLimits:
    timeout: float
    max_rows: int
    max_bytes: int


class RowBudget:
    """Counts fetched rows/bytes against the limits, so fetching can stop early."""

    def __init__(self, limits: RunLimits, deadline: float) -> None:
        self.limits = limits
        self.deadline = deadline
        self.rows: list[tuple] = []
        self.bytes = 0
        self.truncated = False
        self.too_large = False

    def add(self, chunk: list) -> bool:
        """Take a chunk of rows; False once a limit is hit and fetching should stop."""
        for row in chunk:
            if len(self.rows) >= self.limits.max_rows:
                self.truncated = True
                return False
            self.bytes += row_size(row)
            if self.bytes > self.limits.max_bytes:
                self.too_large = True
                return False
            self.rows.append(tuple(row))
        if time.monotonic() > self.deadline:
            raise QueryDeadlineExceeded("result fetching exceeded the time limit")
        return True


class QueryDeadlineExceeded(Exception):
    """Raised on the client when the deadline passes between fetches."""


def row_size(row: Any) -> int:
    """Bytes a row holds in memory: every value counted (a 4-byte-per-character string as
    such), so the cap bounds what the result really costs, not its character count."""
    size = 56 + 8 * len(row)
    for v in row:
        if isinstance(v, memoryview):
            size += v.nbytes + 64
        elif isinstance(v, (list, tuple, dict)):
            size += sys.getsizeof(v) + sum(row_size((x,)) for x in v)
        else:
            size += sys.getsizeof(v)
    return size


def configured_databases(config: dict) -> list[str] | None:
    """Server configs may restrict discovery: `databases` (list or "a,b") or one `database`."""
    names = config.get("databases")
    single = config.get("database") or config.get("dbname")
    if names is None and single:
        names = [single]
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    return list(names) if names else None


class Engine(ABC):
    """One database server (or SQLite folder); connections are per db_id."""

    db_type: str
    dialect: str
    #: names the guard allows beyond its allowlist (set by DatabaseManager; read in workers)
    allowed_functions: tuple[str, ...] = ()
    engine_name: str

    def __init__(self, config: dict) -> None:
        from sqlsynth.redaction import register_secret

        self.config = dict(config)
        register_secret(self.config.get("password"))  # no driver message may show it
        self.allow_privileged = bool(self.config.get("allow_privileged_account"))
        # set once the account was judged (privileges.py); worker processes inherit the
        # verdict of the main process instead of asking the server again
        self.account_checked = False

    # -- discovery -------------------------------------------------------------------------
    @abstractmethod
    def list_databases(self) -> list[str]: ...

    # -- connections -----------------------------------------------------------------------
    @abstractmethod
    def connect(self, db_id: str) -> Any:
        """A connection to db_id with the engine's read-only wall already up."""

    def close_connection(self, conn: Any) -> None:
        with contextlib.suppress(Exception):  # already broken: nothing left to release
            conn.close()

    def reset(self, conn: Any) -> bool:
        """Make a connection as new after an untrusted statement (variables, locks, temporary
        objects, session settings), with the pinned session settings back; False means it
        could not be reset and must be closed."""
        return True

    def prepare_worker(self, memory_limit: int | None) -> None:
        """Process-wide limits of a new worker process (its address-space cap is set)."""

    def backend_id(self, conn: Any) -> int | None:
        """The server's id for this connection (for a server-side cancel), if it has one."""
        return None

    def cancel_backend(self, backend_id: int) -> None:
        """Best effort: stop what server connection `backend_id` runs, from a new connection.
        Called from a helper thread of the main process when a worker was killed."""

    #: killed workers' server sessions that were still there after every escalation
    unended = 0

    def server_version(self) -> str:
        return ""

    def vet(self, conn: Any, sql: str) -> str | None:
        """Ask the server what the guard's rendering `sql` would reach on `conn`'s database;
        the reason to refuse it (naming the object), or None. Runs before execute and explain."""
        return None

    # -- introspection ---------------------------------------------------------------------
    @abstractmethod
    def introspect(self, conn: Any, db_id: str) -> list[Table]:
        """Tables with columns, keys and comments (no samples)."""

    @abstractmethod
    def column_samples_sql(self, table: str, column: str, scan: int) -> str:
        """Trusted SQL selecting non-null values of one column from the first `scan` rows."""

    @abstractmethod
    def table_rows_sql(self, table: str, n: int) -> str: ...

    # -- execution -------------------------------------------------------------------------
    def run(
        self, handle: PooledConnection, sql: str, limits: RunLimits, *, explain: bool = False
    ) -> ExecResult:
        """Run (or EXPLAIN) one statement under the limits; never raises for SQL errors."""
        start = time.monotonic()
        deadline = start + limits.timeout
        conn = handle.raw
        alarm = WATCHDOG.arm(deadline + BACKUP_GRACE, lambda: self.interrupt(conn))
        try:
            columns, budget = self._run(conn, sql, limits, deadline, explain)
        except Exception as exc:  # noqa: BLE001 - driver errors of every kind become statuses
            fired = WATCHDOG.disarm(alarm)
            if _too_large(exc):  # stopped mid-result: the connection cannot be reused
                handle.discard = True
                return ExecResult(status=ExecStatus.TOO_LARGE, elapsed=time.monotonic() - start,
                                  error=_message(_too_large(exc)), error_class="ResultTooLarge")
            elapsed = time.monotonic() - start
            timed_out = fired or time.monotonic() >= deadline
            status = self.classify_error(exc, timed_out=timed_out)
            if isinstance(exc, QueryDeadlineExceeded):
                status = ExecStatus.TIMEOUT
            if not self._recover(conn) or fired:
                handle.discard = True
            return ExecResult(
                status=status, elapsed=elapsed, error=_message(exc), error_class=type(exc).__name__
            )
        fired = WATCHDOG.disarm(alarm)
        elapsed = time.monotonic() - start
        if fired or elapsed > limits.timeout:
            # Some interrupted calls return normally (MySQL's SLEEP() returns 1): a result
            # that arrives after the time limit is a timeout on every engine.
            handle.discard = handle.discard or fired
            return ExecResult(
                status=ExecStatus.TIMEOUT,
                elapsed=elapsed,
                error=f"query ran past its time limit of {limits.timeout:g}s",
                error_class="QueryTimeout",
            )
        if budget.truncated or budget.too_large:
            handle.discard = handle.discard or self.discard_after_partial_fetch
        if budget.too_large:
            return ExecResult(
                status=ExecStatus.TOO_LARGE,
                columns=columns,
                elapsed=elapsed,
                error=f"result exceeds {limits.max_bytes} bytes",
                error_class="ResultTooLarge",
            )
        return ExecResult(
            status=ExecStatus.OK,
            columns=columns,
            rows=tuple(budget.rows),
            elapsed=elapsed,
            truncated=budget.truncated,
        )

    discard_after_partial_fetch = False
    # Tests switch this off to prove the client-side backup interrupt works on its own.
    engine_side_timeout = True

    @abstractmethod
    def _run(
        self, conn: Any, sql: str, limits: RunLimits, deadline: float, explain: bool
    ) -> tuple[tuple[str, ...], RowBudget]: ...

    def _recover(self, conn: Any) -> bool:
        """Bring a connection back to a clean state after an error; False if it is broken."""
        try:
            conn.rollback()
        except Exception:  # noqa: BLE001 - any failure here means the connection is unusable
            return False
        return not getattr(conn, "closed", False)

    @abstractmethod
    def interrupt(self, conn: Any) -> None:
        """Client-side backup: stop whatever `conn` is running (called from another thread)."""

    @abstractmethod
    def classify_error(self, exc: Exception, *, timed_out: bool) -> ExecStatus: ...


def _too_large(exc: BaseException) -> BaseException | None:
    """The ``ResultTooLarge`` behind ``exc`` (drivers may wrap what a loader raised)."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, ResultTooLarge):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def end_statement(
    run: Any, still_there: Any, steps: list[str], *, wait: float = 2.0, poll: float = 0.05
) -> bool:
    """Make sure a server-side statement really ended: run each step of `steps` in turn
    (cancel the statement, then end its session) until `still_there()` says it is gone,
    waiting up to `wait` seconds after each. A statement ends when sqlsynth says it ended:
    one the server keeps running after a cancel (MariaDB's REGEXP_REPLACE ignores KILL QUERY)
    loses its connection. Returns whether it is gone; logs when it is not."""
    import logging

    for step in steps:
        run(step)
        end = time.monotonic() + wait
        while time.monotonic() < end:
            if not still_there():
                return True
            time.sleep(poll)
    gone = not still_there()
    if not gone:
        logging.getLogger("sqlsynth.db").warning(
            "a timed-out statement still runs on the server after %s", " and ".join(steps))
    return gone


def _message(exc: Exception) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


def fetch_into(cursor: Any, budget: RowBudget) -> None:
    """Fetch from a DB-API cursor one row at a time until exhausted or a limit is hit.

    Row by row, not in chunks: a hostile query can make every row huge (up to the engine's
    value limit), so a chunk of rows could exhaust memory before the size cap is checked.
    """
    for row in cursor:
        if not budget.add((row,)):
            return
