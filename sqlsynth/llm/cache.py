"""A persistent response cache, so a rerun never pays twice for an answer it already got.

Answers are keyed by what determines them (model, messages, sampling parameters and the
candidate index), never by where they came from: the base URL and the API key are not part of
the key and never reach the file. Each answer is committed as soon as it arrives, so killing
the process loses nothing that was already answered.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from array import array
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from typing_extensions import Self

CACHE_DIR_ENV = "SQLSYNTH_CACHE_DIR"
CACHE_FILE_NAME = "llm_cache.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key     TEXT PRIMARY KEY,
    kind    TEXT NOT NULL,
    model   TEXT NOT NULL,
    value   BLOB NOT NULL,
    created REAL NOT NULL
)
"""


def default_cache_path() -> Path:
    """``$SQLSYNTH_CACHE_DIR/llm_cache.sqlite``, else ``./.sqlsynth/llm_cache.sqlite``."""
    root = os.environ.get(CACHE_DIR_ENV) or os.path.join(".", ".sqlsynth")
    return Path(root) / CACHE_FILE_NAME


def _digest(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chat_key(model: str, messages: Sequence[Mapping[str, Any]], params: Mapping[str, Any],
             index: int) -> str:
    """Key of candidate ``index`` of a chat request; ``params`` are the sampling parameters."""
    return _digest({"kind": "chat", "model": model, "messages": list(messages),
                    "params": dict(params), "index": index})


def embedding_key(model: str, text: str) -> str:
    return _digest({"kind": "embedding", "model": model, "text": text})


def _pack_vector(vector: Sequence[float]) -> bytes:
    return array("d", vector).tobytes()


def _unpack_vector(blob: bytes) -> list[float]:
    values = array("d")
    values.frombytes(blob)
    return values.tolist()


class ResponseCache:
    """SQLite file in WAL mode; one connection guarded by a lock, usable from any thread.

    Reads and writes are sub-millisecond, so async callers use it directly from the event loop.
    Several processes may share one file (WAL plus a busy timeout).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None,
                                     check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(_SCHEMA)

    # ---- chat answers -------------------------------------------------------------------

    def get_texts(self, keys: Sequence[str]) -> dict[str, str]:
        return {k: v.decode("utf-8") for k, v in self._get_many(keys).items()}

    def put_texts(self, items: Mapping[str, str], *, model: str) -> None:
        self._put_many(((k, "chat", model, v.encode("utf-8")) for k, v in items.items()))

    # ---- embeddings ---------------------------------------------------------------------

    def get_vectors(self, keys: Sequence[str]) -> dict[str, list[float]]:
        return {k: _unpack_vector(v) for k, v in self._get_many(keys).items()}

    def put_vectors(self, items: Mapping[str, Sequence[float]], *, model: str) -> None:
        self._put_many(((k, "embedding", model, _pack_vector(v)) for k, v in items.items()))

    # ---- plumbing -----------------------------------------------------------------------

    def _get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        unique = list(dict.fromkeys(keys))
        with self._lock:
            for start in range(0, len(unique), 500):
                chunk = unique[start:start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    f"SELECT key, value FROM responses WHERE key IN ({marks})", chunk)
                found.update((k, bytes(v)) for k, v in rows)
        return found

    def _put_many(self, rows: Iterable[tuple[str, str, str, bytes]]) -> None:
        now = time.time()
        batch = [(k, kind, model, value, now) for k, kind, model, value in rows]
        if not batch:
            return
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?)", batch)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def __len__(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Default:
    """Marker for "use the default cache file" (``None`` already means "no cache")."""

    def __repr__(self) -> str:
        return "DEFAULT_CACHE"


DEFAULT_CACHE: Any = _Default()


def open_cache(spec: Any) -> ResponseCache | None:
    """Turn a ``cache=`` argument into a cache: default file, a path, an instance, or None."""
    if spec is None:
        return None
    if isinstance(spec, ResponseCache):
        return spec
    if isinstance(spec, _Default):
        return ResponseCache()
    return ResponseCache(spec)
