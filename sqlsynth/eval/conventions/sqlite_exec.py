"""Running gold and predicted SQL on a SQLite file the way the official scripts do.

The official scripts call ``cursor.execute(sql)`` and ``fetchall()`` on a plain connection; the
result they compare is the list of Python tuples that yields. This runner does the same, with
two guards the scripts lack, because predictions are untrusted: the file is opened read-only
and an authorizer refuses ATTACH/DETACH (which could create or touch other files). A
statement that would write therefore fails here (the official script would run it inside a
transaction it never commits and compare its empty result); that is the one documented
difference. A deadline, when a convention uses one, interrupts the statement through SQLite's
progress handler and reports a timeout. Memory is bounded too, where the scripts would grow
without limit (a runaway recursive CTE fetched whole, one value of a gigabyte): a value may
be at most ``MAX_VALUE_BYTES`` (SQLite's own length limit, so it is never built) and a
result at most ``MAX_RESULT_BYTES``, counted while rows are fetched; a run over either
fails with ``too_large``, as a timeout fails. No result of a benchmark's gold comes near them.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_DENIED = {sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH}
#: the longest string or blob a statement may build (SQLITE_LIMIT_LENGTH)
MAX_VALUE_BYTES = 64 * 1024 * 1024
#: the most a fetched result may hold in memory, counted as Python holds it (a tuple per
#: row, an object per value)
MAX_RESULT_BYTES = 512 * 1024 * 1024
_FETCH_BATCH = 1000


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


def _authorizer(action: int, *_: Any) -> int:
    return sqlite3.SQLITE_DENY if action in _DENIED else sqlite3.SQLITE_OK


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


def _size(value: Any) -> int:
    if isinstance(value, (str, bytes)):
        return _VALUE_BYTES + len(value)
    return _VALUE_BYTES


class _TooLarge(Exception):
    pass


def _fetch_bounded(cursor: sqlite3.Cursor, max_bytes: int) -> list[tuple]:
    """All rows, counting their bytes as they come; ``_TooLarge`` past ``max_bytes``."""
    rows: list[tuple] = []
    total = 0
    while True:
        batch = cursor.fetchmany(_FETCH_BATCH)
        if not batch:
            return rows
        for row in batch:
            total += _ROW_BYTES + sum(_size(v) for v in row)
        if total > max_bytes:
            raise _TooLarge
        rows.extend(batch)


def run_sql(path: str | Path, sql: str, *, timeout: float | None = None,
            text_factory: Callable[[bytes], Any] | None = None,
            max_bytes: int = MAX_RESULT_BYTES) -> Run:
    """Execute one statement on a fresh connection (as the scripts do) and fetch all rows."""
    try:
        conn = connect(path, text_factory)
    except sqlite3.Error as err:
        return Run(None, f"cannot open {path}: {err}")
    deadline = None if timeout is None else time.monotonic() + timeout
    if deadline is not None:
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
    start = time.perf_counter()
    try:
        cursor = conn.execute(sql)
        names = tuple(str(d[0]) for d in cursor.description or ())
        rows = _fetch_bounded(cursor, max_bytes)
        return Run(rows, seconds=time.perf_counter() - start, names=names)
    except _TooLarge:
        return Run(None, f"too_large: the result is over {max_bytes // 2**20} MB",
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
