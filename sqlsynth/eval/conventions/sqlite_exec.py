"""Running gold and predicted SQL on a SQLite file the way the official scripts do.

The official scripts call ``cursor.execute(sql)`` and ``fetchall()`` on a plain connection; the
result they compare is the list of Python tuples that yields. This runner does the same, on a
fresh connection per statement, with guards the scripts lack, because predictions are
untrusted:

* **Where.** Every statement runs in a sandbox worker process (``sandbox.py``), never in the
  evaluator's: process-wide SQLite state, one C call that ignores the progress handler
  (``printf('%.*c', 2e9, 'x')``), memory a statement makes SQLite or Python build — all stay
  there, and the worker is killed at the deadline plus a grace period.
* **What.** The file is opened read-only and an authorizer refuses ATTACH/DETACH (which could
  create or touch other files) and every PRAGMA except the read-only listings
  (``table_info``, ``index_list`` ...): ``PRAGMA hard_heap_limit=1`` or ``cache_size`` would
  otherwise change how later statements run. A statement that would write or set a pragma
  therefore fails here (the official script would run it inside a transaction it never commits
  and compare its result); that is the one documented difference.
* **Time.** A deadline, when a convention uses one, interrupts the statement through SQLite's
  progress handler and reports a timeout; the worker is killed if the statement outlives it.
* **Memory.** A value may be at most ``MAX_VALUE_BYTES`` (SQLite's own length limit, so it is
  never built), SQLite's heap in the worker is capped (a row of many large values fails while
  SQLite builds it), and rows are fetched one at a time with every text value counted as it is
  decoded and every row as it arrives: past ``MAX_RESULT_BYTES`` the run fails with
  ``too_large``, as a timeout fails. No result of a benchmark's gold comes near these bounds.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_DENIED = {sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH}
#: pragmas that only list what the schema holds (as statements or table-valued functions)
READ_ONLY_PRAGMAS = frozenset({
    "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
    "foreign_key_list", "database_list", "collation_list", "function_list", "module_list",
    "pragma_list",
})
#: the longest string or blob a statement may build (SQLITE_LIMIT_LENGTH)
MAX_VALUE_BYTES = 64 * 1024 * 1024
#: the most a fetched result may hold in memory, counted as Python holds it (a tuple per
#: row, an object per value)
MAX_RESULT_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Run:
    """One execution: rows on success, else ``error`` (``timed_out`` for the deadline)."""

    rows: list[tuple] | None
    error: str | None = None
    timed_out: bool = False
    seconds: float = 0.0
    names: tuple[str, ...] = ()  # the result's column names

    @property
    def ok(self) -> bool:
        return self.error is None


def _authorizer(action: int, arg1: str | None, *_: Any) -> int:
    if action in _DENIED:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_PRAGMA:
        return sqlite3.SQLITE_OK if (arg1 or "").lower() in READ_ONLY_PRAGMAS \
            else sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def connect(path: str | Path, text_factory: Callable[[bytes], Any] | None = None
            ) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, check_same_thread=False)
    conn.set_authorizer(_authorizer)
    if hasattr(conn, "setlimit"):  # Python 3.11+
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    if text_factory is not None:
        conn.text_factory = text_factory
    return conn


_ROW_BYTES = 64  # a tuple of a few items
_VALUE_BYTES = 40  # a small int, float or short str object, and its slot


class _TooLarge(Exception):
    pass


class _Meter:
    """Bytes of one result, counted while SQLite hands over each value and each row."""

    def __init__(self, max_bytes: int, decode: Callable[[bytes], Any]) -> None:
        self.max_bytes = max_bytes
        self.decode = decode
        self.total = 0

    def charge(self, nbytes: int) -> None:
        self.total += nbytes
        if self.total > self.max_bytes:
            raise _TooLarge

    def text(self, raw: bytes) -> Any:
        """The text factory: each text value is counted before the row holding it is built."""
        self.charge(len(raw))
        value = self.decode(raw)
        self.charge(max(0, sys.getsizeof(value) - len(raw)))
        return value

    def row(self, row: tuple) -> None:
        size = _ROW_BYTES
        for v in row:
            size += _VALUE_BYTES + (len(v) if isinstance(v, bytes) else 0)
        self.charge(size)


def _strict_utf8(raw: bytes) -> str:
    """sqlite3's default text handling (``text_factory = str``): invalid UTF-8 fails."""
    return raw.decode("utf-8")


def execute_here(path: str | Path, sql: str, *, timeout: float | None = None,
                 text_factory: Callable[[bytes], Any] | None = None,
                 max_bytes: int = MAX_RESULT_BYTES) -> Run:
    """One statement on a fresh connection in *this* process (a sandbox worker's)."""
    meter = _Meter(max_bytes, text_factory or _strict_utf8)
    try:
        conn = connect(path, meter.text)
    except sqlite3.Error as err:
        return Run(None, f"cannot open {path}: {err}")
    deadline = None if timeout is None else time.monotonic() + timeout
    if deadline is not None:
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
    start = time.perf_counter()
    try:
        cursor = conn.execute(sql)
        names = tuple(str(d[0]) for d in cursor.description or ())
        rows: list[tuple] = []
        for row in cursor:  # one row at a time: no batch of huge rows before counting
            meter.row(row)
            rows.append(row)
        if deadline is not None and time.monotonic() > deadline:  # one C call outran it
            return Run(None, "timeout", timed_out=True, seconds=time.perf_counter() - start)
        return Run(rows, seconds=time.perf_counter() - start, names=names)
    except _TooLarge:
        return Run(None, f"too_large: the result is over {max_bytes // 2**20} MB",
                   seconds=time.perf_counter() - start)
    except MemoryError:  # SQLite's heap limit in the worker, or the worker's own cap
        return Run(None, "too_large: the statement needs more memory than the sandbox allows",
                   seconds=time.perf_counter() - start)
    except sqlite3.OperationalError as err:
        late = deadline is not None and time.monotonic() > deadline
        return Run(None, "timeout" if late else str(err), timed_out=late,
                   seconds=time.perf_counter() - start)
    except sqlite3.DataError as err:  # string or blob too big
        return Run(None, f"too_large: {err}", seconds=time.perf_counter() - start)
    except Exception as err:  # noqa: BLE001 - any failure of hostile SQL is a failed run
        return Run(None, f"{type(err).__name__}: {err}", seconds=time.perf_counter() - start)
    finally:
        conn.close()


def run_sql(path: str | Path, sql: str, *, timeout: float | None = None,
            text_factory: Callable[[bytes], Any] | None = None,
            max_bytes: int = MAX_RESULT_BYTES) -> Run:
    """Execute one statement on a fresh connection (as the scripts do) and fetch all rows,
    in a sandbox worker process (``text_factory`` must be a module-level function)."""
    if not isinstance(sql, str):
        raise TypeError(f"sql must be a string, got {type(sql).__name__}")
    from sqlsynth.eval.conventions.sandbox import run_in_sandbox

    return run_in_sandbox(path, sql, timeout=timeout, text_factory=text_factory,
                          max_bytes=max_bytes)


def ignore_decode_errors(raw: bytes) -> str:
    """test-suite-sql-eval's text factory: undecodable bytes are dropped."""
    return raw.decode(errors="ignore")


def database_file(root: str | Path, db_id: str) -> Path:
    """``root/db_id/db_id.sqlite`` (the benchmarks' layout), else ``root/db_id.sqlite``; a
    path to a file is used as it is."""
    base = Path(root)
    if base.is_file():
        return base
    for candidate in (base / db_id / f"{db_id}.sqlite", base / f"{db_id}.sqlite",
                      base / db_id / f"{db_id}.db", base / f"{db_id}.db"):
        if candidate.is_file():
            return candidate
    return base / db_id / f"{db_id}.sqlite"
