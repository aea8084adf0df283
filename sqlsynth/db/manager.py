"""`DatabaseManager`: the one entry point the rest of sqlsynth uses to reach databases.

It owns discovery, cached schemas, the pool of execution worker processes (which also bounds
concurrency per database, see `worker_pool.py`), the statement guard in front of every
untrusted statement (run inside the worker, so checking counts inside the time limit), and a
single-flight result cache, bounded in entries and bytes, so identical (db_id, sql) pairs run
once.

Deadlines: `execute`/`explain`/`aexecute` return within their time limit plus about a second,
counted from the call, whatever the server does; `execute_many`/`aexecute_many` queue their
statements, and each one's limit counts from when it starts. Results that say nothing about the
statement (the database unreachable, no worker free in time, a worker killed) are not cached.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlsynth.db.engines.base import Engine, RunLimits, row_size
from sqlsynth.db.guard import GuardDecision, check_read_only_cached, stored_form
from sqlsynth.db.memory import MIN_WORKER_MEMORY
from sqlsynth.db.memory import worker_memory_limit as worker_memory_limit_for
from sqlsynth.db.result import ExecResult, ExecStatus
from sqlsynth.db.schema import (
    Schema,
    render_create_statements,
    render_inserts,
    render_schema_with_examples,
)
from sqlsynth.db.url import db_type_of, is_url, parse_database_url
from sqlsynth.db.worker import Reply, Request
from sqlsynth.db.worker_pool import Killed, WaitedOut, WorkerError, WorkerPool
from sqlsynth.db.worker_pool import prestart as prestart_workers

SAMPLE_SCAN_ROWS = 200  # sample values are picked among the first rows holding a value
SAMPLE_TIMEOUT = 5.0
INTROSPECT_TIMEOUT = 120.0  # reading the catalog of one database, at most
SCHEMA_BUDGET_FACTOR = 5.0  # a schema (catalog and samples) takes at most 5 query limits ...
SCHEMA_MIN_BUDGET = 10.0  # ... and never less than this
_log = logging.getLogger(__name__)


def _make_engine(db_type: str, config: dict) -> Engine:
    if db_type == "sqlite":
        from sqlsynth.db.engines.sqlite import SQLiteEngine

        return SQLiteEngine(config)
    if db_type == "mysql":
        from sqlsynth.db.engines.mysql import MySQLEngine

        return MySQLEngine(config)
    from sqlsynth.db.engines.postgres import PostgresEngine

    return PostgresEngine(config)


class DatabaseManager:
    """Discovery, schema, safe execution and batch execution over one engine."""

    #: not part of a step's fingerprint: the memory cap is derived from the memory free when
    #: the manager is made, and the result cache's size grows with every query run, so both
    #: differ between a run and its resume without changing results
    fingerprint_exclude: frozenset[str] = frozenset({"worker_memory_limit", "cache_bytes_used"})

    def __init__(
        self,
        db_type: str = "sqlite",
        config: dict | None = None,
        *,
        timeout: float = 10.0,
        max_rows: int = 10_000,
        max_result_bytes: int = 32 * 2**20,
        max_workers: int = 8,
        per_db_concurrency: int = 4,
        sample_values: int = 3,
        cache_size: int = 100_000,
        allowed_functions: Iterable[str] = (),
        cache_bytes: int = 256 * 2**20,
        allow_privileged_account: bool = False,
        worker_memory_limit: int | None = None,
    ) -> None:
        key = db_type_of(db_type)
        if key is None:
            raise ValueError(f"db_type must be sqlite, mysql or postgres, got {db_type!r}")
        self.db_type = key
        self.config = dict(config or {})
        if allow_privileged_account:
            self.config["allow_privileged_account"] = True
        self.engine = _make_engine(key, self.config)
        self.dialect = self.engine.dialect
        self.timeout = float(timeout)
        self.max_rows = int(max_rows)
        self.max_result_bytes = int(max_result_bytes)
        self.per_db_concurrency = int(per_db_concurrency)
        self.sample_values = int(sample_values)
        # names added to the guard's allowlist of side-effect-free functions (sqlsynth.db.functions)
        if isinstance(allowed_functions, str):
            raise TypeError("allowed_functions must be a list of names, not one string")
        self.allowed_functions = tuple(str(n) for n in allowed_functions)
        # the guard runs in the worker processes, which get the engine: it carries the names
        self.engine.allowed_functions = self.allowed_functions
        self.stats = {"executions": 0, "explains": 0, "cache_hits": 0, "forbidden": 0}
        self._max_workers = int(max_workers)
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._worker_pool: WorkerPool | None = None
        # a worker may use this much address space (RLIMIT_AS), chosen so that all workers
        # at their cap fit in the machine's memory (sqlsynth.db.memory); what a worker
        # cannot hold fails there, never in the main process
        self.worker_memory_limit = (
            int(worker_memory_limit)
            if worker_memory_limit is not None
            else worker_memory_limit_for(
                self._max_workers, floor=max(MIN_WORKER_MEMORY, 16 * self.max_result_bytes))
        )
        self._schemas: dict[str, Schema] = {}
        self._schema_locks: dict[str, threading.Lock] = {}
        self._cache: OrderedDict[tuple, ExecResult] = OrderedDict()
        self._cache_size = int(cache_size)
        self._cache_bytes = int(cache_bytes)
        self._cache_sizes: dict[tuple, int] = {}
        self.cache_bytes_used = 0
        self._inflight: dict[tuple, Future] = {}
        self._selected: list[str] | None = None
        self._known: list[str] | None = None
        prestart_workers()

    @property
    def engine_name(self) -> str:
        return self.engine.engine_name

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def from_url(cls, url: str, **kw: Any) -> DatabaseManager:
        db_type, config = parse_database_url(url)
        return cls(db_type, config, **kw)

    @classmethod
    def from_path_or_url(cls, target: str | Path, **kw: Any) -> DatabaseManager:
        text = str(target)
        if is_url(text):
            return cls.from_url(text, **kw)
        return cls("sqlite", {"root_path": text}, **kw)

    # -- discovery -------------------------------------------------------------------------
    def list_databases(self) -> list[str]:
        if self._known is None:
            self._known = self.engine.list_databases()
        if self._selected is not None:
            return [d for d in self._known if d in self._selected]
        return list(self._known)

    def select_databases(self, db_ids: Iterable[str]) -> None:
        """Restrict discovery (and execution) to these db_ids; unknown ones are an error."""
        wanted = list(dict.fromkeys(db_ids))
        if self._known is None:
            self._known = self.engine.list_databases()
        missing = [d for d in wanted if d not in self._known]
        if missing:
            raise ValueError(f"unknown db_id(s) {missing}; available: {self._known}")
        self._selected = wanted

    def database_exists(self, db_id: str) -> bool:
        return db_id in self.list_databases()

    def server_version(self) -> str:
        return self.engine.server_version()

    # -- workers ---------------------------------------------------------------------------
    @property
    def workers(self) -> WorkerPool:
        """The execution worker processes (started on first use)."""
        with self._lock:
            if self._worker_pool is None:
                self._worker_pool = WorkerPool(
                    self.engine,
                    self._max_workers,
                    self.per_db_concurrency,
                    self.worker_memory_limit,
                )
                # a manager dropped without close() still lets its workers go
                weakref.finalize(self, self._worker_pool.close)
            return self._worker_pool

    def _in_worker(
        self,
        db_id: str,
        sql: str,
        limits: RunLimits,
        explain: bool,
        *,
        guard: bool,
        start: float | None = None,
    ) -> ExecResult:
        """Run one statement in a worker process; every outcome is a result, never a raise."""
        start = time.monotonic() if start is None else start
        request = Request(
            op="run",
            db_id=db_id,
            sql=sql,
            max_rows=limits.max_rows,
            max_bytes=limits.max_bytes,
            explain=explain,
            guard=guard,
            engine_side_timeout=self.engine.engine_side_timeout,
        )
        try:
            outcome = self.workers.call(request, start + limits.timeout)
        except Exception as exc:  # noqa: BLE001 - a worker that cannot start
            return _TransientFailure.failure(
                ExecStatus.RUNTIME_ERROR, f"cannot start a database worker: {exc}",
                type(exc).__name__, time.monotonic() - start,
            )
        elapsed = time.monotonic() - start
        if isinstance(outcome, Reply):
            result = outcome.result or ExecResult.failure(ExecStatus.RUNTIME_ERROR, "no result")
            with self._lock:
                if outcome.forbidden:
                    self.stats["forbidden"] += 1
                elif guard:
                    self.stats["explains" if explain else "executions"] += 1
            if outcome.transient:
                return _TransientFailure(**_fields(result))
            return result
        if isinstance(outcome, WaitedOut):
            error = (f"no database connection became free within the time limit of "
                     f"{limits.timeout:g}s")
            return _TransientFailure.failure(ExecStatus.TIMEOUT, error, "PoolTimeout", elapsed)
        if isinstance(outcome, Killed):
            error = (f"query ran past its time limit of {limits.timeout:g}s; its worker "
                     f"process was stopped")
            return _TransientFailure.failure(ExecStatus.TIMEOUT, error, "QueryTimeout", elapsed)
        code = getattr(outcome, "exitcode", None)
        return _TransientFailure.failure(
            ExecStatus.RUNTIME_ERROR,
            f"the database worker process died (exit code {code}) running the statement",
            "WorkerDied", elapsed,
        )

    def _raw_run(self, db_id: str, sql: str, limits: RunLimits, explain: bool) -> ExecResult:
        """Run trusted SQL (samples, row reads) in a worker, under the same limits."""
        return self._in_worker(db_id, sql, limits, explain, guard=False)

    # -- schema ----------------------------------------------------------------------------
    def get_schema(self, db_id: str) -> Schema:
        if not self.database_exists(db_id):
            raise KeyError(f"unknown db_id {db_id!r}")
        with self._lock:
            lock = self._schema_locks.setdefault(db_id, threading.Lock())
        with lock:
            if db_id not in self._schemas:
                self._schemas[db_id] = self._load_schema(db_id)
            return self._schemas[db_id]

    def schema_budget(self) -> float:
        """Seconds reading one database's schema may take in all (catalog and samples): a
        hostile file of slow views costs this much, never a query limit per column."""
        return min(INTROSPECT_TIMEOUT, max(SCHEMA_MIN_BUDGET, SCHEMA_BUDGET_FACTOR * self.timeout))

    def _load_schema(self, db_id: str) -> Schema:
        budget = self.schema_budget()
        deadline = time.monotonic() + budget
        outcome = self.workers.call(Request(op="introspect", db_id=db_id), deadline)
        if not isinstance(outcome, Reply):
            raise WorkerError(
                f"cannot read the schema of {db_id!r} from {self.engine_name}: "
                f"{type(outcome).__name__.lower()} after {budget:g}s"
            )
        if outcome.error is not None or outcome.tables is None:
            raise WorkerError(f"cannot read the schema of {db_id!r}: {outcome.error}")
        tables = outcome.tables
        if self.sample_values > 0:
            skipped = 0
            for table in tables:
                for col in table.columns:
                    left = deadline - time.monotonic()
                    if left <= 0.05:
                        skipped += 1
                        continue
                    limits = RunLimits(min(SAMPLE_TIMEOUT, left), SAMPLE_SCAN_ROWS,
                                       self.max_result_bytes)
                    sql = self.engine.column_samples_sql(table.name, col.name, SAMPLE_SCAN_ROWS)
                    res = self._raw_run(db_id, sql, limits, False)
                    col.samples = _distinct_first((r[0] for r in res.rows), self.sample_values)
            if skipped:
                _log.warning("%s: reading samples took the schema's whole time budget of %gs; "
                             "%d column(s) have no sample values", db_id, budget, skipped)
        return Schema(db_id=db_id, tables=tables, dialect=self.dialect)

    def render_create_statements(self, db_id: str) -> str:
        return render_create_statements(self.get_schema(db_id))

    def render_sample_inserts(self, db_id: str, rows_per_table: int = 3) -> str:
        schema = self.get_schema(db_id)
        parts = []
        for table in schema.tables:
            res = self.sample_rows(db_id, table.name, rows_per_table)
            if res.ok and res.rows:
                parts.append(render_inserts(table, res.columns, res.rows, self.dialect))
        return "\n\n".join(parts)

    def render_schema_with_examples(self, db_id: str) -> str:
        return render_schema_with_examples(self.get_schema(db_id), self.engine_name)

    def sample_rows(self, db_id: str, table: str, n: int = 3) -> ExecResult:
        schema = self.get_schema(db_id)
        found = schema.table(table)
        if found is None:
            return ExecResult.failure(
                ExecStatus.RUNTIME_ERROR, f"no table {table!r} in {db_id!r}", "KeyError"
            )
        sql = self.engine.table_rows_sql(found.name, n)
        return self._raw_run(db_id, sql, RunLimits(SAMPLE_TIMEOUT, n, self.max_result_bytes), False)

    # -- safe execution --------------------------------------------------------------------
    def guard(self, sql: str) -> GuardDecision:
        """The statement guard's verdict on `sql` for this engine; when allowed, its `.sql` is
        exactly the text `execute`/`explain` send to the engine."""
        return check_read_only_cached(sql, self.dialect, allowed_functions=self.allowed_functions)

    def canonical_sql(self, sql: str) -> str | None:
        """The form of `sql` pipelines store: itself when it is token for token what runs,
        else the guard's rendering that runs; None when refused (see `guard.canonical_sql`)."""
        decision = self.guard(sql)
        return stored_form(sql, decision.sql, self.dialect) if decision.allowed else None

    def execute(
        self, db_id: str, sql: str, *, timeout: float | None = None, max_rows: int | None = None
    ) -> ExecResult:
        """Run untrusted SQL safely; identical requests are answered from the cache."""
        key, job = self._job(db_id, sql, timeout, max_rows, explain=False)
        fut, owner = self._claim(key)
        if owner:
            self._resolve(key, fut, job)
        return fut.result()

    def explain(self, db_id: str, sql: str) -> ExecResult:
        """Whether the statement would run (parse, names, types), without executing it."""
        key, job = self._job(db_id, sql, None, None, explain=True)
        fut, owner = self._claim(key)
        if owner:
            self._resolve(key, fut, job)
        return fut.result()

    async def aexecute(
        self, db_id: str, sql: str, *, timeout: float | None = None, max_rows: int | None = None
    ) -> ExecResult:
        return await self._asubmit(*self._job(db_id, sql, timeout, max_rows, explain=False))

    async def aexplain(self, db_id: str, sql: str) -> ExecResult:
        return await self._asubmit(*self._job(db_id, sql, None, None, explain=True))

    def execute_many(self, pairs: Sequence[tuple[str, str]], **kw: Any) -> list[ExecResult]:
        futures = []
        for db_id, sql in pairs:
            key, job = self._job(
                db_id, sql, kw.get("timeout"), kw.get("max_rows"), explain=False, queued=True
            )
            futures.append(self._submit(key, job))
        return [f.result() for f in futures]

    async def aexecute_many(self, pairs: Sequence[tuple[str, str]], **kw: Any) -> list[ExecResult]:
        futures = []
        for db_id, sql in pairs:
            key, job = self._job(
                db_id, sql, kw.get("timeout"), kw.get("max_rows"), explain=False, queued=True
            )
            futures.append(asyncio.wrap_future(self._submit(key, job)))
        return list(await asyncio.gather(*futures))

    def _job(
        self,
        db_id: str,
        sql: str,
        timeout: float | None,
        max_rows: int | None,
        *,
        explain: bool,
        queued: bool = False,
    ) -> tuple[tuple, Callable[[], ExecResult]]:
        # checked here, in the caller, on both paths: a non-string never reaches a worker
        # thread, where it could only fail after the caller started waiting
        if not isinstance(sql, str):
            raise TypeError(f"sql must be a string, got {type(sql).__name__}")
        if not isinstance(db_id, str):
            raise TypeError(f"db_id must be a string, got {type(db_id).__name__}")
        limits = RunLimits(
            timeout=self.timeout if timeout is None else float(timeout),
            max_rows=self.max_rows if max_rows is None else int(max_rows),
            max_bytes=self.max_result_bytes,
        )
        key = ("explain" if explain else "run", db_id, sql, limits.timeout, limits.max_rows)
        called = time.monotonic()

        def job() -> ExecResult:
            start = time.monotonic() if queued else called
            try:
                known = self.database_exists(db_id)
            except Exception as exc:  # noqa: BLE001 - unreachable server: a result, not a raise
                return _TransientFailure.failure(
                    ExecStatus.RUNTIME_ERROR, f"connection failed: {exc}", type(exc).__name__,
                    time.monotonic() - start,
                )
            if not known:
                return ExecResult.failure(
                    ExecStatus.UNKNOWN_DB,
                    f"unknown db_id {db_id!r}",
                    elapsed=time.monotonic() - start,
                )
            if not sql.strip():
                with self._lock:
                    self.stats["forbidden"] += 1
                return ExecResult.failure(
                    ExecStatus.SYNTAX_ERROR, "empty statement", "GuardRejected",
                    time.monotonic() - start,
                )
            return self._in_worker(db_id, sql, limits, explain, guard=True, start=start)

        return key, job

    # -- single-flight cache ---------------------------------------------------------------
    def _claim(self, key: tuple) -> tuple[Future, bool]:
        """The future for `key`, and whether the caller must compute it."""
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                self.stats["cache_hits"] += 1
                fut: Future = Future()
                fut.set_result(cached)
                return fut, False
            fut = self._inflight.get(key)
            if fut is not None:
                self.stats["cache_hits"] += 1
                return fut, False
            fut = self._inflight[key] = Future()
            return fut, True

    def _resolve(self, key: tuple, fut: Future, job: Callable[[], ExecResult]) -> None:
        try:
            result = job()
        except BaseException as exc:  # noqa: BLE001 - handed to every waiter, then re-raised
            with self._lock:
                self._inflight.pop(key, None)
            fut.set_exception(exc)
            return
        try:
            with self._lock:
                self._inflight.pop(key, None)
                if not isinstance(result, _TransientFailure):
                    self._cache_put(key, result)
        finally:  # every waiter gets its answer, even if keeping it failed
            fut.set_result(result)

    def _cache_put(self, key: tuple, result: ExecResult) -> None:
        """Keep `result`, then drop the least recently used entries past either bound."""
        size = 200 + len(key[2]) + sum(row_size(r) for r in result.rows)
        if size > self._cache_bytes:
            return
        if key in self._cache:
            self.cache_bytes_used -= self._cache_sizes.pop(key, 0)
        self._cache[key] = result
        self._cache_sizes[key] = size
        self.cache_bytes_used += size
        while self._cache and (
            len(self._cache) > self._cache_size or self.cache_bytes_used > self._cache_bytes
        ):
            old, _ = self._cache.popitem(last=False)
            self.cache_bytes_used -= self._cache_sizes.pop(old, 0)

    def _submit(self, key: tuple, job: Callable[[], ExecResult]) -> Future:
        fut, owner = self._claim(key)
        if owner:
            self._pool_executor().submit(self._resolve, key, fut, job)
        return fut

    async def _asubmit(self, key: tuple, job: Callable[[], ExecResult]) -> ExecResult:
        return await asyncio.wrap_future(self._submit(key, job))

    def _pool_executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    self._max_workers, thread_name_prefix="sqlsynth-db"
                )
            return self._executor

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()
            self._cache_sizes.clear()
            self.cache_bytes_used = 0

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
            workers, self._worker_pool = self._worker_pool, None
        if executor is not None:
            executor.shutdown(wait=True)
        if workers is not None:
            workers.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"DatabaseManager(db_type={self.db_type!r}, dialect={self.dialect!r})"


class _TransientFailure(ExecResult):
    """A failure to reach the database (not the statement's fault): never cached."""


def _fields(result: ExecResult) -> dict:
    return {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}


def _distinct_first(values: Iterable, n: int) -> list:
    seen: list = []
    keys: set = set()
    for v in values:
        k = repr(v)
        if k not in keys:
            keys.add(k)
            seen.append(v)
            if len(seen) >= n:
                break
    return seen
