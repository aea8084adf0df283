"""A per-database index of distinct text values, so probing does not rescan large tables.

Built once by reading `SELECT DISTINCT col` through the safe executor, stored in its own
SQLite file (never inside the user's database) with an FTS5 trigram table, and rebuilt when
the database's fingerprint (row counts and schema, plus file size/mtime when the manager can
tell us the file) changes.

What is indexed: columns whose declared type is textual (CHAR/CLOB/TEXT/...), only their text
values, and only when the column has at most `max_distinct` distinct values (default 100k);
other columns are listed as skipped with the reason, and probes on them go to the live
database. Lookups reproduce the live skeletons: `exact` is a binary comparison (as SQLite and
PostgreSQL do; MySQL's case-insensitive, trailing-space-blind comparison is imitated), and
`substring` is LIKE '%v%' with the dialect's case rule (SQLite: ASCII letters fold; PostgreSQL:
case-sensitive; MySQL: case-insensitive). Columns declared with a non-default collation (e.g.
SQLite `COLLATE NOCASE`) compare differently on the live database: not handled.
"""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlglot import exp

from sqlsynth.engine.knowledge import safe_file_stem
from sqlsynth.engine.probes import Probe, is_text_type
from sqlsynth.storage.atomic import atomic_path

log = logging.getLogger(__name__)

INDEX_VERSION = 1
SMALL_COLUMN = 2_000  # fuzzy lookups score every value of columns up to this size
_ASCII_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fts5_trigram_available() -> bool:
    try:
        conn = sqlite3.connect(":memory:")
        conn.execute("CREATE VIRTUAL TABLE t USING fts5(v, tokenize='trigram')")
        conn.close()
        return True
    except sqlite3.OperationalError:
        return False


@dataclass(frozen=True)
class IndexedColumn:
    table: str
    column: str
    n_values: int
    indexed: bool
    reason: str = ""


@dataclass(frozen=True)
class ValueMatch:
    table: str
    column: str
    value: str
    score: float


def normalize(text: str) -> str:
    return " ".join(text.casefold().split())


def _trigrams(text: str) -> set[str]:
    return {text[i : i + 3] for i in range(max(len(text) - 2, 0))} or {text}


def similarity(query: str, value: str) -> float:
    """Mean of trigram Dice overlap and difflib's ratio on normalised text, in [0, 1]."""
    a, b = normalize(query), normalize(value)
    if a == b:
        return 1.0
    ga, gb = _trigrams(a), _trigrams(b)
    dice = 2 * len(ga & gb) / (len(ga) + len(gb))
    return 0.5 * dice + 0.5 * difflib.SequenceMatcher(None, a, b).ratio()


def _select_distinct_sql(table: str, column: str, dialect: str) -> str:
    col = exp.column(column, quoted=True)
    return (
        exp.select(col.copy())
        .distinct()
        .from_(exp.Table(this=exp.to_identifier(table, quoted=True)))
        .where(exp.Not(this=exp.Is(this=col.copy(), expression=exp.Null())))
        .sql(dialect=dialect)
    )


def _count_sql(table: str, dialect: str) -> str:
    return (
        exp.select(exp.Count(this=exp.Star()))
        .from_(exp.Table(this=exp.to_identifier(table, quoted=True)))
        .sql(dialect=dialect)
    )


def _database_file(database_manager: Any, db_id: str) -> Path | None:
    """The SQLite file behind db_id when the manager exposes it (name varies by version)."""
    owners = (database_manager, getattr(database_manager, "engine", None))
    for owner, name in ((o, n) for o in owners for n in ("path_of", "database_path")):
        method = getattr(owner, name, None)
        if callable(method):
            try:
                path = method(db_id)
            except Exception:  # noqa: BLE001 - any failure just means "unknown"
                return None
            return Path(path) if path else None
    return None


async def afingerprint(database_manager: Any, db_id: str) -> str:
    """Changes when rows are added/removed, the schema changes, or the file is rewritten."""
    schema = database_manager.get_schema(db_id)
    dialect = database_manager.dialect
    parts: list[Any] = []
    counts = await asyncio.gather(
        *(database_manager.aexecute(db_id, _count_sql(t.name, dialect)) for t in schema.tables)
    )
    for table, res in zip(schema.tables, counts):
        count = res.rows[0][0] if res.ok and res.rows else None
        parts.append([table.name, [[c.name, c.type] for c in table.columns], count])
    file = _database_file(database_manager, db_id)
    if file is not None and file.exists():
        stat = file.stat()
        parts.append([stat.st_size, stat.st_mtime_ns])
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


class ValueIndex:
    """Read access to a built index file; build with `abuild` or `aopen_or_build`."""

    def __init__(self, path: str | os.PathLike[str], *, dialect: str = "sqlite") -> None:
        self.path = Path(path)
        self.dialect = dialect
        self._conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True,
                                     check_same_thread=False)
        self._lock = threading.Lock()
        meta = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
        self.fingerprint: str = meta.get("fingerprint", "")
        self.fts: bool = meta.get("fts") == "1"
        self.built_seconds = float(meta.get("built_seconds", 0.0))
        self._columns: dict[tuple[str, str], tuple[int, IndexedColumn]] = {}
        for cid, tbl, col, n, indexed, reason in self._conn.execute(
            "SELECT id, tbl, col, n_values, indexed, reason FROM columns"
        ):
            self._columns[(tbl, col)] = (cid, IndexedColumn(tbl, col, n, bool(indexed), reason))

    # -- building -------------------------------------------------------------------------
    @classmethod
    async def aopen_or_build(
        cls,
        database_manager: Any,
        db_id: str,
        index_dir: str | os.PathLike[str],
        *,
        max_distinct: int = 100_000,
        build_timeout: float = 120.0,
        rebuild: bool = False,
    ) -> ValueIndex:
        """Reuse `<index_dir>/<db_id>.values.sqlite` unless stale; else (re)build it."""
        path = Path(index_dir) / f"{safe_file_stem(db_id)}.values.sqlite"
        fingerprint = await afingerprint(database_manager, db_id)
        if path.exists() and not rebuild:
            try:
                index = cls(path, dialect=database_manager.dialect)
            except sqlite3.Error as exc:
                log.warning("%s: unreadable value index, rebuilding: %s", path, exc)
            else:
                if index.fingerprint == fingerprint:
                    return index
                index.close()
        return await cls.abuild(
            database_manager, db_id, path, fingerprint=fingerprint,
            max_distinct=max_distinct, build_timeout=build_timeout,
        )

    @classmethod
    async def abuild(
        cls,
        database_manager: Any,
        db_id: str,
        path: str | os.PathLike[str],
        *,
        fingerprint: str | None = None,
        max_distinct: int = 100_000,
        build_timeout: float = 120.0,
    ) -> ValueIndex:
        started = time.perf_counter()
        path = Path(path)
        user_file = _database_file(database_manager, db_id)
        if user_file is not None and user_file.resolve() == path.resolve():
            raise ValueError(f"{path}: refusing to write the value index over the database file")
        if fingerprint is None:
            fingerprint = await afingerprint(database_manager, db_id)
        dialect = database_manager.dialect
        schema = database_manager.get_schema(db_id)
        targets = [(t.name, c.name, c.type) for t in schema.tables for c in t.columns]
        columns: list[IndexedColumn] = []
        values: dict[tuple[str, str], list[str]] = {}

        async def read(table: str, column: str, declared: str) -> None:
            if not is_text_type(declared):
                columns.append(IndexedColumn(table, column, 0, False, f"type {declared!r} is not text"))
                return
            res = await database_manager.aexecute(
                db_id, _select_distinct_sql(table, column, dialect),
                timeout=build_timeout, max_rows=max_distinct + 1,
            )
            if not res.ok:
                reason = f"{res.status.value}: {res.error}"
                columns.append(IndexedColumn(table, column, 0, False, reason))
                return
            if res.truncated or len(res.rows) > max_distinct:
                columns.append(IndexedColumn(
                    table, column, len(res.rows), False, f"more than {max_distinct} distinct values"
                ))
                return
            texts = [row[0] for row in res.rows if isinstance(row[0], str)]
            values[(table, column)] = texts
            columns.append(IndexedColumn(table, column, len(texts), True))

        await asyncio.gather(*(read(*target) for target in targets))
        order = {(t, c): i for i, (t, c, _ty) in enumerate(targets)}
        columns.sort(key=lambda c: order[(c.table, c.column)])
        elapsed = time.perf_counter() - started
        await asyncio.to_thread(_write_index, path, columns, values, fingerprint, dialect, elapsed)
        return cls(path, dialect=dialect)

    # -- lookups --------------------------------------------------------------------------
    def columns(self) -> list[IndexedColumn]:
        return [info for _cid, info in self._columns.values()]

    def covers(self, table: str, column: str) -> bool:
        found = self._columns.get((table, column))
        return found is not None and found[1].indexed

    def _cid(self, table: str, column: str) -> int:
        found = self._columns.get((table, column))
        if found is None or not found[1].indexed:
            raise KeyError(f"{table}.{column} is not indexed")
        return found[0]

    def _query(self, sql: str, params: Sequence[Any]) -> list[tuple]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def exact(self, table: str, column: str, value: str) -> list[str]:
        cid = self._cid(table, column)
        if self.dialect == "mysql":
            rows = self._query("SELECT value FROM vals WHERE column_id = ?", (cid,))
            want = value.rstrip(" ").casefold()
            return [v for (v,) in rows if v.rstrip(" ").casefold() == want]
        rows = self._query("SELECT value FROM vals WHERE column_id = ? AND value = ?", (cid, value))
        return [v for (v,) in rows]

    def _contains(self, needle: str, value: str) -> bool:
        if self.dialect == "postgres":
            return needle in value
        if self.dialect == "mysql":
            return needle.casefold() in value.casefold()
        return needle.translate(_ASCII_FOLD) in value.translate(_ASCII_FOLD)

    def substring(self, table: str, column: str, needle: str) -> list[str]:
        """Values v with v LIKE '%needle%' (wildcards in needle taken literally)."""
        cid = self._cid(table, column)
        if self.fts and len(needle) >= 3:
            # CROSS JOIN keeps SQLite from scanning the column and probing FTS per row
            phrase = '"' + needle.replace('"', '""') + '"'
            rows = self._query(
                "SELECT v.value FROM vals_fts CROSS JOIN vals v ON v.id = vals_fts.rowid "
                "WHERE vals_fts MATCH ? AND v.column_id = ?",
                (phrase, cid),
            )
        else:
            rows = self._query("SELECT value FROM vals WHERE column_id = ?", (cid,))
        return [v for (v,) in rows if self._contains(needle, v)]

    def lookup(self, probe: Probe) -> list[str] | None:
        """The probe's result from the index, or None when the column must be probed live."""
        if not self.covers(probe.table, probe.column):
            return None
        if probe.skeleton == "exact":
            return self.exact(probe.table, probe.column, probe.value)
        return self.substring(probe.table, probe.column, probe.value)

    def fuzzy(
        self,
        text: str,
        *,
        table: str | None = None,
        column: str | None = None,
        k: int = 5,
        candidates: int = 300,
    ) -> list[ValueMatch]:
        """The k stored values most similar to `text`, in one column or the whole database."""
        query = normalize(text)
        if not query:
            return []
        cid = self._cid(table, column) if table is not None and column is not None else None
        names = {cid_: key for key, (cid_, _info) in self._columns.items()}
        small = cid is not None and self._columns[(table, column)][1].n_values <= SMALL_COLUMN
        if small or not self.fts or len(query) < 3:
            sql = "SELECT value, column_id FROM vals"
            params: tuple = ()
            if cid is not None:
                sql, params = sql + " WHERE column_id = ?", (cid,)
            rows = self._query(sql, params)
            if not small and len(rows) > 50 * candidates:  # cheap prefilter on big scans
                grams = _trigrams(query)
                rows = [r for r in rows if any(g in r[0].casefold() for g in grams)]
        else:
            match = " OR ".join('"' + g.replace('"', '""') + '"' for g in sorted(_trigrams(query)))
            sql = (
                "SELECT v.value, v.column_id FROM vals_fts CROSS JOIN vals v ON v.id = vals_fts.rowid "
                "WHERE vals_fts MATCH ?"
            )
            params = (match,)
            if cid is not None:
                sql, params = sql + " AND v.column_id = ?", (match, cid)
            rows = self._query(sql + " ORDER BY rank LIMIT ?", (*params, candidates))
        scored = [
            ValueMatch(names[c][0], names[c][1], v, similarity(query, v)) for v, c in rows
        ]
        scored.sort(key=lambda m: (-m.score, len(m.value), m.value))
        return scored[:k]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _write_index(
    path: Path,
    columns: list[IndexedColumn],
    values: dict[tuple[str, str], list[str]],
    fingerprint: str,
    dialect: str,
    elapsed: float,
) -> None:
    """Write to a temporary file then rename, so readers never see a half-built index."""
    with atomic_path(path) as tmp:
        _fill_index(tmp, columns, values, fingerprint, dialect, elapsed)


def _fill_index(
    tmp: Path,
    columns: list[IndexedColumn],
    values: dict[tuple[str, str], list[str]],
    fingerprint: str,
    dialect: str,
    elapsed: float,
) -> None:
    fts = fts5_trigram_available()
    conn = sqlite3.connect(tmp)
    try:
        conn.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
            "CREATE TABLE columns(id INTEGER PRIMARY KEY, tbl TEXT, col TEXT, n_values INTEGER,"
            " indexed INTEGER, reason TEXT);"
            "CREATE TABLE vals(id INTEGER PRIMARY KEY, column_id INTEGER, value TEXT);"
        )
        for cid, info in enumerate(columns, 1):
            conn.execute(
                "INSERT INTO columns VALUES (?, ?, ?, ?, ?, ?)",
                (cid, info.table, info.column, info.n_values, int(info.indexed), info.reason),
            )
            texts = values.get((info.table, info.column), [])
            conn.executemany(
                "INSERT INTO vals(column_id, value) VALUES (?, ?)", ((cid, v) for v in texts)
            )
        conn.execute("CREATE INDEX vals_by_column ON vals(column_id, value)")
        if fts:
            conn.execute(
                "CREATE VIRTUAL TABLE vals_fts USING fts5(value, content='vals', "
                "content_rowid='id', tokenize='trigram')"
            )
            conn.execute("INSERT INTO vals_fts(vals_fts) VALUES ('rebuild')")
        meta = {
            "version": str(INDEX_VERSION),
            "fingerprint": fingerprint,
            "dialect": dialect,
            "fts": "1" if fts else "0",
            "built_seconds": f"{elapsed:.3f}",
        }
        conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        conn.commit()
    finally:
        conn.close()
