"""One ``DatabaseManager`` per process and database root, built on first use.

An RL trainer calls the reward from many worker processes at once (verl's reward workers, a
TRL process per GPU); each process builds its own manager for a database root the first time
it scores against it and reuses it - its connections, worker processes and result cache -
for every later call. Nothing is shared between processes and nothing is written: SQLite is
opened read-only, servers through their own connections. A forked child builds its own
(a manager's worker pipes belong to the parent that started them).
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Mapping
from typing import Any

from sqlsynth.db import DatabaseManager

_LOCK = threading.Lock()
_MANAGERS: dict[tuple, DatabaseManager] = {}
_OWNER_PID = os.getpid()

#: reward-sized limits: a completion gets a short deadline, results stay small
DEFAULT_LIMITS: dict[str, Any] = {"timeout": 5.0, "max_rows": 10_000,
                                  "max_result_bytes": 16 * 2**20, "max_workers": 4,
                                  "per_db_concurrency": 4}


def _key(target: str, limits: Mapping[str, Any]) -> tuple:
    return (target, tuple(sorted(limits.items())))


def shared_manager(target: str | os.PathLike[str], **limits: Any) -> DatabaseManager:
    """This process's manager for ``target`` (a SQLite folder or file, or a database URL),
    with ``limits`` (``DatabaseManager`` keyword arguments) over ``DEFAULT_LIMITS``."""
    global _OWNER_PID
    merged = {**DEFAULT_LIMITS, **limits}
    key = _key(os.fspath(target), merged)
    with _LOCK:
        if os.getpid() != _OWNER_PID:  # forked: the parent's managers are not ours to use
            _MANAGERS.clear()
            _OWNER_PID = os.getpid()
        manager = _MANAGERS.get(key)
        if manager is None:
            manager = DatabaseManager.from_path_or_url(os.fspath(target), **merged)
            _MANAGERS[key] = manager
        return manager


def close_shared_managers() -> None:
    """Close this process's managers (their worker processes and connections)."""
    with _LOCK:
        managers = list(_MANAGERS.values()) if os.getpid() == _OWNER_PID else []
        _MANAGERS.clear()
    for manager in managers:
        manager.close()


atexit.register(close_shared_managers)

__all__ = ["DEFAULT_LIMITS", "close_shared_managers", "shared_manager"]
