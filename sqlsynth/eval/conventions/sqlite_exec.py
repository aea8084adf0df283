"""Running gold and predicted SQL on a SQLite file the way the official scripts do.

The official scripts call ``cursor.execute(sql)`` and ``fetchall()`` on a plain connection; the
result they compare is the list of Python tuples that yields. This runner does the same, with
two guards the scripts lack, because predictions are untrusted: the file is opened read-only
and an authorizer refuses ATTACH/DETACH (which could create or touch other files). A
statement that would write therefore fails here (the official script would run it inside a
transaction it never commits and compare its empty result); that is the one documented
difference. A deadline, when a convention uses one, interrupts the statement through SQLite's
progress handler and reports a timeout.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_DENIED = {sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH}


@dataclass(frozen=True)
class Run:
    """One execution: rows on success, else ``error`` (``timed_out`` for the deadline)."""

    rows: list[tuple] | None
    error: str | None = None
    timed_out: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def _authorizer(action: int, *_: Any) -> int:
    return sqlite3.SQLITE_DENY if action in _DENIED else sqlite3.SQLITE_OK


def connect(path: str | Path, text_factory: Callable[[bytes], Any] | None = None
            ) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, check_same_thread=False)
    conn.set_authorizer(_authorizer)
    if text_factory is not None:
        conn.text_factory = text_factory
    return conn


def run_sql(path: str | Path, sql: str, *, timeout: float | None = None,
            text_factory: Callable[[bytes], Any] | None = None) -> Run:
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
        rows = conn.execute(sql).fetchall()
        return Run(rows, seconds=time.perf_counter() - start)
    except sqlite3.OperationalError as err:
        late = deadline is not None and time.monotonic() > deadline
        return Run(None, "timeout" if late else str(err), timed_out=late,
                   seconds=time.perf_counter() - start)
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
