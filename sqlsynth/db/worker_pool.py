"""Main-process side of the execution workers: a small pool of persistent processes.

Why processes: a thread cannot be stopped, a driver call can block inside C while holding the
GIL, and a single SQLite function call or a server that stops answering can outlast any
in-engine timeout. A worker process can always be SIGKILLed. So every untrusted statement
(and every trusted query that reads table data) runs in a worker; the caller waits on the
worker's pipe with a timeout (a `poll`, which releases the GIL), and at the deadline plus a
grace period the worker is killed and replaced, while a helper thread asks the server to
cancel what that worker's connection was running (best effort; the server's own statement
limits and, on PostgreSQL, `client_connection_check_interval` also apply).

Waiting for a free worker, or for the per-database concurrency bound, counts inside the same
deadline. Workers are forked from a forkserver that preloaded `sqlsynth.db.worker` (drivers,
sqlglot), so a replacement starts in milliseconds; they keep their connections between
statements, so a trivial query costs one pipe round trip on top of the database's own work.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlsynth.db.engines.base import Engine
from sqlsynth.db.worker import Reply, Request
from sqlsynth.errors import DatabaseUnavailableError

GRACE = 0.7  # seconds after the deadline before the worker is killed (its own limits go first)
#: what the forkserver imports once for every worker: the worker module and the drivers that
#: are installed (a missing one is skipped); the main process imports a driver only when it
#: connects itself (``import psycopg`` alone costs about 0.2 s before a run's first request)
_PRELOAD = ["sqlsynth.db.worker", "pymysql", "pymysql.cursors", "psycopg"]
_context_lock = threading.Lock()
_context: Any = None


class WorkerError(DatabaseUnavailableError):
    """A worker could not do trusted work (introspection) for the main process."""

    def __init__(self, message: str) -> None:
        ConnectionError.__init__(self, message)


def mp_context() -> Any:
    """The forkserver context (spawn where there is none), preloading the worker module."""
    global _context
    with _context_lock:
        if _context is None:
            methods = multiprocessing.get_all_start_methods()
            if "forkserver" in methods:
                ctx = multiprocessing.get_context("forkserver")
                ctx.set_forkserver_preload(_PRELOAD)
            else:  # pragma: no cover - Windows
                ctx = multiprocessing.get_context("spawn")
            _context = ctx
        return _context


try:  # POSIX: forkserver children that skip the caller's __main__
    from multiprocessing import context as _mp_context
    from multiprocessing import forkserver as _forkserver
    from multiprocessing import popen_forkserver as _popen_forkserver
    from multiprocessing import spawn as _spawn
    from multiprocessing import util as _util

    class _NoMainPopen(_popen_forkserver.Popen):
        """Launches a forkserver child without importing the caller's `__main__`.

        multiprocessing's children re-import the main script (as `__mp_main__`); a user's
        pipeline script without an `if __name__ == "__main__"` guard would then run again in
        every worker. Workers need nothing from it, so the main-module entries are left out
        of the data the child prepares itself from."""

        def _launch(self, process_obj: Any) -> None:
            prep = _spawn.get_preparation_data(process_obj._name)
            for key in ("init_main_from_name", "init_main_from_path"):
                prep.pop(key, None)
            buf = io.BytesIO()
            _mp_context.set_spawning_popen(self)
            try:
                _mp_context.reduction.dump(prep, buf)
                _mp_context.reduction.dump(process_obj, buf)
            finally:
                _mp_context.set_spawning_popen(None)
            self.sentinel, w = _forkserver.connect_to_new_process(self._fds)
            parent_w = os.dup(w)  # the child watches this end to notice the parent is gone
            self.finalizer = _util.Finalize(self, _util.close_fds, (parent_w, self.sentinel))
            with open(w, "wb", closefd=True) as f:
                f.write(buf.getbuffer())
            self.pid = _forkserver.read_signed(self.sentinel)

    class WorkerProcess(_mp_context.ForkServerProcess):
        @staticmethod
        def _Popen(process_obj: Any) -> Any:
            return _NoMainPopen(process_obj)

except ImportError:  # pragma: no cover - Windows: spawn, which has no such hook
    WorkerProcess = None  # type: ignore[assignment,misc]


def prestart() -> None:
    """Start the forkserver in the background, so the first query does not wait for it."""

    def start() -> None:
        ctx = mp_context()
        if ctx.get_start_method() == "forkserver":
            from multiprocessing import forkserver

            with contextlib.suppress(Exception):
                forkserver.ensure_running()

    threading.Thread(target=start, name="sqlsynth-forkserver", daemon=True).start()


class WaitedOut:
    """No worker (or no per-database slot) became free before the deadline."""


class Killed:
    """The worker did not answer by the deadline and was killed."""


class Died:
    def __init__(self, exitcode: int | None) -> None:
        self.exitcode = exitcode


Outcome = Reply | WaitedOut | Killed | Died


class _Worker:
    __slots__ = ("backends", "conn", "dbs", "process")

    def __init__(self, process: Any, conn: Any) -> None:
        self.process = process
        self.conn = conn
        self.dbs: set[str] = set()
        self.backends: dict[str, int | None] = {}


class WorkerPool:
    """At most `size` worker processes, at most `per_db` of them busy on one db_id."""

    def __init__(
        self, engine: Engine, size: int, per_db: int, memory_limit: int | None = None,
        target: Callable[[Any, Any, int | None], None] | None = None,
    ) -> None:
        self.engine = engine  # handed to every worker (with `target`, whatever it needs)
        self.target = target  # the worker's loop; None: sqlsynth.db.worker.serve
        self.size = max(1, int(size))
        self.per_db = max(1, int(per_db))
        self.memory_limit = memory_limit
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._count = 0
        self._in_use: dict[str, int] = {}
        self._closed = False
        self.peak_in_use: dict[str, int] = {}  # highest concurrency seen per db_id
        self.stats = {"spawned": 0, "killed": 0, "died": 0, "waited_out": 0}

    # -- one call --------------------------------------------------------------------------
    def call(self, request: Request, deadline: float, grace: float = GRACE) -> Outcome:
        """Send `request` to a worker and wait for its reply until `deadline` + `grace`.

        Starting a new worker is sqlsynth's own overhead, which no server can stall: its
        duration moves the deadline rather than eating the statement's time limit."""
        started = time.monotonic()
        worker, spawned = self._acquire(request.db_id, deadline)
        if spawned:
            deadline += time.monotonic() - started
        if worker is None:
            with self._cond:
                self.stats["waited_out"] += 1
            return WaitedOut()
        keep = False
        try:
            request.timeout = max(0.0, deadline - time.monotonic())
            try:
                worker.conn.send(request)
                answered = worker.conn.poll(request.timeout + grace)
                reply = worker.conn.recv() if answered else None
            except (EOFError, OSError):
                self._kill(worker, None)
                with self._cond:
                    self.stats["died"] += 1
                return Died(worker.process.exitcode)
            if reply is None:
                self._kill(worker, request.db_id)
                with self._cond:
                    self.stats["killed"] += 1
                return Killed()
            worker.dbs.add(request.db_id)
            worker.backends.update(getattr(reply, "backends", None) or {})
            keep = True
            return reply
        finally:
            self._release(worker, request.db_id, keep)

    # -- workers ---------------------------------------------------------------------------
    def _acquire(self, db_id: str, deadline: float) -> tuple[_Worker | None, bool]:
        with self._cond:
            while True:
                if self._closed:
                    return None, False
                if self._in_use.get(db_id, 0) < self.per_db:
                    worker = self._pick_idle(db_id)
                    spawn = worker is None and self._count < self.size
                    if worker is not None or spawn:
                        self._in_use[db_id] = self._in_use.get(db_id, 0) + 1
                        self.peak_in_use[db_id] = max(
                            self.peak_in_use.get(db_id, 0), self._in_use[db_id]
                        )
                        if worker is not None:
                            return worker, False
                        self._count += 1
                        break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None, False
                self._cond.wait(remaining)
        try:
            return self._spawn(), True
        except BaseException:
            with self._cond:
                self._count -= 1
                self._in_use[db_id] -= 1
                self._cond.notify_all()
            raise

    def _pick_idle(self, db_id: str) -> _Worker | None:
        for i in range(len(self._idle) - 1, -1, -1):  # one that already has the connection
            if db_id in self._idle[i].dbs:
                return self._idle.pop(i)
        return self._idle.pop() if self._idle else None

    def _spawn(self) -> _Worker:
        from sqlsynth.db.worker import serve

        target = self.target or serve
        ctx = mp_context()
        parent, child = ctx.Pipe(duplex=True)
        forkserver = ctx.get_start_method() == "forkserver" and WorkerProcess is not None
        factory = WorkerProcess if forkserver else ctx.Process
        process = factory(
            target=target,
            args=(child, self.engine, self.memory_limit),
            name="sqlsynth-db-worker",
            daemon=True,
        )
        process.start()
        child.close()
        with self._cond:
            self.stats["spawned"] += 1
        return _Worker(process, parent)

    def _release(self, worker: _Worker, db_id: str, keep: bool) -> None:
        stop = False
        with self._cond:
            self._in_use[db_id] -= 1
            if keep and not self._closed:
                self._idle.append(worker)
            else:
                self._count -= 1
                stop = keep  # the pool closed while it was busy
            self._cond.notify_all()
        if stop:
            self._stop(worker)

    def _kill(self, worker: _Worker, db_id: str | None) -> None:
        """SIGKILL the worker; reap it and cancel its server-side query from helper threads."""
        with contextlib.suppress(Exception):
            worker.process.kill()
        with contextlib.suppress(Exception):
            worker.conn.close()
        _background(worker.process.join, 10)
        backend = worker.backends.get(db_id) if db_id is not None else None
        if backend is not None and hasattr(self.engine, "cancel_backend"):
            _background(_quietly(self.engine.cancel_backend), backend)

    def _stop(self, worker: _Worker) -> None:
        with contextlib.suppress(Exception):
            worker.conn.send(None)
        with contextlib.suppress(Exception):
            worker.conn.close()

        def finish() -> None:
            worker.process.join(2)
            if worker.process.is_alive():
                with contextlib.suppress(Exception):
                    worker.process.kill()
                worker.process.join(5)

        _background(finish)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            self._cond.notify_all()
        for worker in idle:
            self._stop(worker)

    def pids(self) -> list[int]:
        """Process ids of the idle workers (tests and benchmarks measure them)."""
        with self._cond:
            return [w.process.pid for w in self._idle if w.process.pid]


def _background(fn: Callable, *args: Any) -> None:
    threading.Thread(target=fn, args=args, name="sqlsynth-db-reaper", daemon=True).start()


def _quietly(fn: Callable[..., None]) -> Callable[..., None]:
    def run(*args: Any) -> None:
        with contextlib.suppress(Exception):
            fn(*args)

    return run


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True
