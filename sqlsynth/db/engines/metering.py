"""Count a result's bytes as the driver reads them, before any row is built from them.

The result-size cap (``RowBudget``) is checked on each finished row, so one row of many large
values (``SELECT repeat('x', 1e9)``, sixty 30 MB columns) was fully decoded before it was
refused: a worker reached gigabytes. Here each driver counts what arrives against the cap
while it arrives, and stops with ``ResultTooLarge``:

* MariaDB/MySQL (PyMySQL, pure Python): every read from the socket is counted before it is
  made, so at most one protocol packet (16 MiB) past the cap is ever read;
* PostgreSQL (psycopg): every value is counted, by its wire length, before it is decoded
  (a wrapper around each type's loader); libpq holds the raw row, bounded by the worker's
  memory cap (``sqlsynth.db.memory``).

A connection stopped this way is mid-result, so it is discarded, never reused.
"""

from __future__ import annotations

import functools
from typing import Any

#: bytes counted past the cap before stopping: the protocol's own framing and metadata
SLACK = 1 << 20


class ResultTooLarge(Exception):
    """The result passed the size cap while the driver was still reading it."""


class ByteMeter:
    """Bytes read for the running statement, against its cap (None: not counting)."""

    def __init__(self) -> None:
        self.limit: int | None = None
        self.used = 0

    def start(self, limit: int | None) -> None:
        self.limit = None if limit is None else int(limit) + SLACK
        self.used = 0

    def add(self, size: int) -> None:
        if self.limit is None:
            return
        self.used += size
        if self.used > self.limit:
            raise ResultTooLarge(f"result exceeds {self.limit - SLACK} bytes (stopped while "
                                 "reading it)")


def metered_mysql_connection(**args: Any) -> Any:
    """A PyMySQL connection whose socket reads are counted by its ``sqlsynth_meter``."""
    conn = _metered_mysql_class()(**args)
    conn.sqlsynth_meter = ByteMeter()
    return conn


@functools.lru_cache(maxsize=1)
def _metered_mysql_class() -> type:
    import pymysql.connections

    class MeteredConnection(pymysql.connections.Connection):
        def _read_bytes(self, num_bytes: int) -> bytes:
            meter = getattr(self, "sqlsynth_meter", None)
            if meter is not None:
                meter.add(num_bytes)  # before the bytes are read (and allocated)
            return super()._read_bytes(num_bytes)

    return MeteredConnection


def meter_postgres_connection(conn: Any) -> ByteMeter:
    """Wrap every text-format loader of ``conn`` so each value's wire length is counted
    before it is decoded; returns the connection's meter."""
    from psycopg.adapt import Loader
    from psycopg.pq import Format

    meter = ByteMeter()
    adapters = conn.adapters

    def counting(inner_cls: type) -> type:
        class Counting(Loader):
            def __init__(self, oid: int, context: Any = None) -> None:
                super().__init__(oid, context)
                self._inner = inner_cls(oid, context)

            def load(self, data: Any) -> Any:
                meter.add(len(data))
                return self._inner.load(data)

        return Counting

    oids = {0}
    for info in adapters.types:
        oids.update(o for o in (info.oid, getattr(info, "array_oid", 0)) if o)
    for oid in oids:
        inner = adapters.get_loader(oid, Format.TEXT)
        if inner is not None:
            adapters.register_loader(oid, counting(inner))
    return meter
