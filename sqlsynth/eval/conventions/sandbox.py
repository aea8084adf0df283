"""The sandbox the official conventions run statements in: worker processes, fresh connections.

The official scripts run predictions in their own process; a prediction there can set
process-wide SQLite state (``PRAGMA hard_heap_limit=1`` made every later prediction fail),
build gigabytes, or sit in one C call that no progress handler interrupts. Here every gold and
predicted statement runs in a worker process of the database layer's pool
(``sqlsynth.db.worker_pool``: forkserver children, killed and replaced at the deadline plus a
grace period), on a fresh connection as the scripts open one, with the authorizer, value and
result bounds of ``sqlite_exec.execute_here``, under an address-space cap derived from the
machine (``sqlsynth.db.memory``) and SQLite's own heap limit. The verdicts stay the scripts':
nothing here checks or rewrites the SQL.
"""

from __future__ import annotations

import atexit
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlsynth.db.memory import set_sqlite_heap_limit, sqlite_heap_limit, worker_memory_limit
from sqlsynth.db.worker_pool import Died, Killed, WaitedOut, WorkerPool
from sqlsynth.eval.conventions.sqlite_exec import MAX_VALUE_BYTES, Run, execute_here

WORKERS = 4  # at most this many statements at once (the runner itself is sequential)
NO_LIMIT = 86_400.0  # "no time limit" still ends the worker after a day
_lock = threading.Lock()
_pool: WorkerPool | None = None


@dataclass
class ScriptRequest:
    """One statement for a sandbox worker (`db_id` and `timeout` are what the pool reads)."""

    db_id: str  # the file's path: the pool bounds concurrency per database
    sql: str
    limit: float | None  # the statement's own time limit (None: none)
    text_factory: Callable[[bytes], Any] | None
    max_bytes: int
    timeout: float = 0.0  # set by the pool: time left when sent


@dataclass(frozen=True)
class SandboxLimits:
    """What every worker applies to itself before its first statement."""

    sqlite_heap: int


def serve(conn: Any, limits: SandboxLimits, memory_limit: int | None) -> None:
    """A sandbox worker's loop: one statement in, one ``Run`` out; EOF or None ends it."""
    from sqlsynth.db.worker import limit_memory

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the evaluator's to handle
    limit_memory(memory_limit)
    set_sqlite_heap_limit(limits.sqlite_heap)
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        try:
            run = execute_here(request.db_id, request.sql, timeout=request.limit,
                               text_factory=request.text_factory, max_bytes=request.max_bytes)
        except MemoryError:
            run = Run(None, "too_large: the statement needs more memory than the sandbox allows")
        try:
            conn.send(run)
        except (EOFError, OSError):
            return
        except MemoryError:
            conn.send(Run(None, "too_large: the result cannot be handed back"))


def pool() -> WorkerPool:
    """The evaluator's sandbox workers (started on first use, stopped at exit)."""
    global _pool
    with _lock:
        if _pool is None:
            memory = worker_memory_limit(WORKERS)
            limits = SandboxLimits(sqlite_heap_limit(memory, MAX_VALUE_BYTES))
            _pool = WorkerPool(limits, WORKERS, WORKERS, memory, target=serve)  # type: ignore[arg-type]
            atexit.register(_pool.close)
        return _pool


def run_in_sandbox(path: str | Path, sql: str, *, timeout: float | None,
                   text_factory: Callable[[bytes], Any] | None, max_bytes: int) -> Run:
    """``execute_here`` in a worker; past ``timeout`` plus the grace period it is killed."""
    request = ScriptRequest(str(path), sql, timeout, text_factory, max_bytes)
    started = time.monotonic()
    outcome = pool().call(request, started + (NO_LIMIT if timeout is None else timeout))
    elapsed = time.monotonic() - started
    if isinstance(outcome, Run):
        return outcome
    if isinstance(outcome, Killed):
        return Run(None, "timeout", timed_out=True, seconds=elapsed)
    if isinstance(outcome, WaitedOut):
        return Run(None, "timeout: no sandbox worker became free in time", timed_out=True,
                   seconds=elapsed)
    code = outcome.exitcode if isinstance(outcome, Died) else None
    return Run(None, f"the sandbox worker died (exit code {code}) running the statement",
               seconds=elapsed)
