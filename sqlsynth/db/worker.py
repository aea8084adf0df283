"""Child side of the execution workers: guard and run one statement at a time, own connections.

A worker is a separate process that the main process may SIGKILL at any moment (at a query's
deadline), so nothing a statement or the server does — a frozen server, a lock, one function
call building a gigabyte, a parse that recurses — can stall the main process, hold its GIL or
grow its memory. The worker checks the statement (the guard counts inside the time limit), runs
it under the engine's limits with the row and byte caps enforced while fetching, sends back at
most `max_bytes` of rows, and then resets the connection it used so the next statement finds it
as new. Its address space can be capped (RLIMIT_AS): a huge value fails here, not in the caller.

Importing this module preloads what workers need (the forkserver imports it once, so forking a
new worker is cheap); see `worker_pool.py` for the main-process side.
"""

from __future__ import annotations

import dataclasses
import signal
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlsynth.db.engines.base import Engine, RunLimits
from sqlsynth.db.guard import check_read_only
from sqlsynth.db.pool import PooledConnection
from sqlsynth.db.result import ExecResult, ExecStatus

MAX_OPEN_CONNECTIONS = 8  # per worker; the least recently used one is closed beyond this


@dataclass
class Request:
    """One unit of work for a worker; `timeout` is the time left when it was sent."""

    op: str  # "run" | "introspect"
    db_id: str
    sql: str = ""
    timeout: float = 0.0
    max_rows: int = 0
    max_bytes: int = 0
    explain: bool = False
    guard: bool = True
    engine_side_timeout: bool = True


@dataclass
class Reply:
    result: ExecResult | None = None
    tables: list | None = None
    error: str | None = None  # introspection failed: the reason, raised again in the caller
    forbidden: bool = False  # refused by the guard
    transient: bool = False  # the database could not be reached: not the statement's verdict
    backends: dict = field(default_factory=dict)  # db_id -> server connection id


class _Sessions:
    """This worker's open connections, one per db_id, least recently used closed first."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.open: OrderedDict[str, Any] = OrderedDict()

    def get(self, db_id: str) -> Any:
        conn = self.open.get(db_id)
        if conn is not None:
            self.open.move_to_end(db_id)
            return conn
        conn = self.engine.connect(db_id)
        self.open[db_id] = conn
        while len(self.open) > MAX_OPEN_CONNECTIONS:
            _, old = self.open.popitem(last=False)
            self.engine.close_connection(old)
        return conn

    def drop(self, db_id: str) -> None:
        conn = self.open.pop(db_id, None)
        if conn is not None:
            self.engine.close_connection(conn)

    def close_all(self) -> None:
        for db_id in list(self.open):
            self.drop(db_id)


def limit_memory(limit: int | None) -> None:
    """Cap this process's address space at `limit` bytes (a worker's, never the caller's)."""
    if not limit:
        return
    try:
        import resource

        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ImportError, ValueError, OSError):  # not on this platform: the byte cap remains
        pass


def _out_of_memory(result: ExecResult) -> bool:
    """Whether a statement failed for want of memory: Python's MemoryError, or the driver's own
    (libpq: "out of memory for query result" once the worker's address-space cap is reached).
    Either way the result is too large for a worker, not an error in the statement."""
    if result.error_class == "MemoryError":
        return True
    return result.status is ExecStatus.RUNTIME_ERROR and "out of memory" in (result.error or "").lower()


def requests(conn: Any) -> Iterator[Any]:
    """What a worker is asked, one request at a time, until EOF, a broken pipe or ``None``.

    Shared by the statement workers and the evaluator's sandbox workers: both end the same way
    when their owner closes the pipe or says goodbye.
    """
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        yield request


def serve(conn: Any, engine: Engine, memory_limit: int | None) -> None:
    """The worker's loop: one request in, one reply out, then clean up; EOF ends it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    limit_memory(memory_limit)
    engine.prepare_worker(memory_limit)
    # the main process judged the account before the first worker started (the pickled engine
    # says so); a worker started before discovery judges it itself
    sessions = _Sessions(engine)
    try:
        for request in requests(conn):
            reply, cleanup = handle(engine, sessions, request)
            try:
                conn.send(reply)
            except (EOFError, OSError, BrokenPipeError):
                return
            except Exception as exc:  # noqa: BLE001 - a value that cannot be pickled
                conn.send(Reply(result=ExecResult.failure(
                    ExecStatus.RUNTIME_ERROR, f"result cannot be returned: {exc}",
                    type(exc).__name__)))
            cleanup()
    finally:
        sessions.close_all()


def _nothing() -> None:
    return None


def handle(engine: Engine, sessions: _Sessions, req: Request) -> tuple[Reply, Any]:
    """Answer one request; the second value runs after the reply is sent (connection reset)."""
    try:
        if req.op == "introspect":
            return _introspect(engine, sessions, req)
        return _run(engine, sessions, req)
    except MemoryError:
        sessions.close_all()
        return Reply(result=ExecResult.failure(
            ExecStatus.TOO_LARGE, "the statement needs more memory than a worker may use",
            "MemoryError")), _nothing
    except Exception as exc:  # noqa: BLE001 - never let a request kill the worker
        sessions.drop(req.db_id)
        return Reply(result=ExecResult.failure(
            ExecStatus.RUNTIME_ERROR, f"internal error: {exc}", type(exc).__name__)), _nothing


def _introspect(engine: Engine, sessions: _Sessions, req: Request) -> tuple[Reply, Any]:
    try:
        conn = sessions.get(req.db_id)
        tables = engine.introspect(conn, req.db_id)
    except Exception as exc:  # noqa: BLE001 - reported to the caller, which raises it
        sessions.drop(req.db_id)
        return Reply(error=f"{type(exc).__name__}: {exc}", transient=True), _nothing
    return Reply(tables=tables), lambda: _reset(engine, sessions, req.db_id, conn, False)


def _reset(engine: Engine, sessions: _Sessions, db_id: str, conn: Any, discard: bool) -> None:
    if discard or not engine.reset(conn):
        sessions.drop(db_id)


def _guard(engine: Engine, sql: str, start: float) -> tuple[str | None, Reply | None]:
    try:
        decision = check_read_only(sql, engine.dialect,
                                   allowed_functions=getattr(engine, "allowed_functions", ()))
    except RecursionError:
        return None, Reply(result=ExecResult.failure(
            ExecStatus.FORBIDDEN, "statement is nested too deeply to be checked",
            "GuardRejected", time.monotonic() - start), forbidden=True)
    if not decision.allowed:
        return None, Reply(result=ExecResult.failure(
            decision.status, decision.reason or "rejected", "GuardRejected",
            time.monotonic() - start), forbidden=True)
    return decision.sql, None


def _run(engine: Engine, sessions: _Sessions, req: Request) -> tuple[Reply, Any]:
    start = time.monotonic()
    end = start + req.timeout
    sql: str | None = req.sql
    if req.guard:
        sql, refused = _guard(engine, req.sql, start)
        if refused is not None:
            return refused, _nothing
    remaining = end - time.monotonic()
    if remaining <= 0:
        return Reply(result=ExecResult(
            status=ExecStatus.TIMEOUT, elapsed=time.monotonic() - start,
            error=f"checking the statement used up its time limit of {req.timeout:g}s",
            error_class="QueryTimeout")), _nothing
    try:
        conn = sessions.get(req.db_id)
    except Exception as exc:  # noqa: BLE001 - connection failures, not SQL errors
        return Reply(result=ExecResult.failure(
            ExecStatus.RUNTIME_ERROR, f"connection failed: {exc}", type(exc).__name__,
            time.monotonic() - start), transient=True), _nothing
    if req.guard:
        try:
            reason = engine.vet(conn, sql or "")
        except Exception as exc:  # noqa: BLE001 - what cannot be checked does not run
            sessions.drop(req.db_id)
            reason = f"cannot resolve what the statement reaches ({type(exc).__name__}: {exc})"
        if reason:
            return Reply(result=ExecResult.failure(
                ExecStatus.FORBIDDEN, reason, "GuardRejected", time.monotonic() - start),
                forbidden=True), _nothing
    handle_ = PooledConnection(conn)
    engine.engine_side_timeout = req.engine_side_timeout
    result = engine.run(
        handle_, sql or "", RunLimits(remaining, req.max_rows, req.max_bytes), explain=req.explain
    )
    if _out_of_memory(result):
        result = dataclasses.replace(
            result, status=ExecStatus.TOO_LARGE,
            error="the statement needs more memory than a worker may use")
        handle_.discard = True
    result = dataclasses.replace(result, elapsed=time.monotonic() - start)
    reply = Reply(result=result, backends={req.db_id: engine.backend_id(conn)})
    return reply, lambda: _reset(engine, sessions, req.db_id, conn, handle_.discard)
