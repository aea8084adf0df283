"""How much memory a worker process may use, derived from the machine it runs on.

Every untrusted statement runs in a worker process, and each worker runs under an address-space
cap (RLIMIT_AS), so whatever a statement makes the driver or SQLite build fails inside that
worker instead of growing the machine's memory. The cap is chosen so that all workers at
their cap together fit in the memory the machine has: ``available × 0.6 / workers``, at most
8 GiB and at least a floor that leaves room for one full result and its copy on the pipe.
SQLite's own heap gets a smaller, process-wide limit (``sqlite3_hard_heap_limit64``), so one
result row of many large values fails while SQLite builds it, before Python copies it.
"""

from __future__ import annotations

import os
from pathlib import Path

GiB = 2**30
MiB = 2**20
MAX_WORKER_MEMORY = 8 * GiB
MIN_WORKER_MEMORY = 768 * MiB  # an interpreter with the drivers loaded, plus working room
SHARE_OF_MACHINE = 0.6  # of the memory available when the pool is made; the rest for others
_CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def available_memory() -> int | None:
    """Bytes this process may still use: MemAvailable, lowered by a cgroup limit; None when
    the platform says nothing."""
    found: list[int] = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
                break
    except (OSError, ValueError, IndexError):
        pass
    if not found:
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            pass
    for path in _CGROUP_LIMITS:
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:
            found.append(int(text))
    return min(found) if found else None


def worker_memory_limit(workers: int, *, floor: int = MIN_WORKER_MEMORY,
                        available: int | None = None) -> int:
    """The address-space cap for each of ``workers`` processes: min(8 GiB, available × 0.6 /
    workers), never below ``floor`` (a result of ``max_result_bytes`` must fit twice)."""
    avail = available if available is not None else available_memory()
    if avail is None:
        return max(floor, MAX_WORKER_MEMORY)
    share = int(avail * SHARE_OF_MACHINE / max(1, int(workers)))
    return max(floor, min(MAX_WORKER_MEMORY, share))


def sqlite_heap_limit(memory_limit: int | None, value_limit: int) -> int:
    """SQLite's heap in one worker: a quarter of the worker's cap (at most 1 GiB), never below
    four values at the longest a statement may build (``SQLITE_LIMIT_LENGTH``) plus caches."""
    quarter = (memory_limit or 4 * GiB) // 4
    return max(4 * value_limit + 64 * MiB, min(GiB, quarter))


def set_sqlite_heap_limit(limit: int) -> None:
    """Set the process-wide SQLite heap limit (workers only: it applies to every connection
    of the process). Statements can never change it: the authorizers deny every PRAGMA that
    sets something."""
    import sqlite3

    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(f"PRAGMA hard_heap_limit = {int(limit)}")
    finally:
        conn.close()
