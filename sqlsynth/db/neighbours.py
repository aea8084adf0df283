"""Neighbour databases: perturbed copies on which queries that agree by accident disagree.

Two queries that return the same result on one database may still mean different things (an
extra filter every stored row happens to pass, a join that happens to drop nothing). Test-suite
evaluation (Zhong, Yu & Klein, 2020) compares them also on *neighbours* of the database:
copies with rows dropped and duplicated and numeric values moved. ``NeighbourDatabases``
builds a few such copies of a SQLite database once (lazily, on the first comparison, in a
temporary folder it owns; the user's file is only read) and answers ``same_meaning``: False
when some neighbour tells the two queries apart, True when none does, None when there is no
neighbour to ask (a server source, a database too large to copy). The perturbations are
deterministic (a function of the rowid and the neighbour's number), so a rerun decides alike.
Queries run on the copies through a ``DatabaseManager`` like any untrusted SQL.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import threading
from pathlib import Path

from sqlsynth.db.compare import comparable, results_match
from sqlsynth.db.manager import DatabaseManager

#: databases larger than this are not copied (no neighbour evidence for them)
MAX_COPY_BYTES = 256 * 2**20


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def perturb(conn: sqlite3.Connection, k: int) -> None:
    """Turn the database behind ``conn`` into neighbour ``k``: per table (rebuilt without its
    keys and constraints, so that duplicates fit), drop about a fifth
    of the rows, duplicate rows (a new key where the key is an integer) and add 1 to the
    numeric values of columns that are no key: neighbour 0 duplicates every row and moves every
    value (a bound at today's largest key or value no longer holds), the others about a
    quarter of the rows and the values of a third of the rows and of every duplicate."""
    conn.execute("PRAGMA legacy_alter_table = ON")  # views name tables that are rebuilt
    conn.execute("PRAGMA foreign_keys = OFF")
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    for table in tables:
        t = _quote(table)
        info = conn.execute(f"PRAGMA table_info({t})").fetchall()
        if not info or conn.execute(
                "SELECT sql LIKE '%WITHOUT ROWID%' FROM sqlite_master WHERE name = ?",
                (table,)).fetchone()[0]:
            continue
        foreign = {r[3] for r in conn.execute(f"PRAGMA foreign_key_list({t})")}
        keys = {r[1] for r in info if r[5]} | foreign
        plain = [r[1] for r in info if r[1] not in keys and not r[1].lower().endswith("id")]
        # without its constraints (a copy's rows need not be unique: duplicates must go in)
        conn.execute(f"CREATE TABLE {_quote(table + '__neighbour')} AS SELECT * FROM {t}")
        conn.execute(f"DROP TABLE {t}")
        conn.execute(f"ALTER TABLE {_quote(table + '__neighbour')} RENAME TO {t}")
        conn.execute(f"DELETE FROM {t} WHERE (rowid * 7919 + {k * 131}) % 5 = 0")
        int_key = [r[1] for r in info if r[5]] if sum(1 for r in info if r[5]) == 1 else []
        top = conn.execute(f"SELECT MAX({_quote(int_key[0])}) FROM {t}").fetchone()[0] \
            if int_key else None
        names = [r[1] for r in info]
        last = conn.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {t}").fetchone()[0]
        if int_key and not isinstance(top, int):
            int_key = []
        values = [f"{_quote(n)} + {top}" if int_key and n == int_key[0] else _quote(n)
                  for n in names]
        conn.execute(f"INSERT INTO {t} ({', '.join(map(_quote, names))}) "
                     f"SELECT {', '.join(values)} FROM {t}"
                     f"{'' if k == 0 else f' WHERE (rowid * 31 + {k}) % 4 = 0'}")
        for column in plain:
            c = _quote(column)
            share = "" if k == 0 else \
                f" AND ((rowid * 13 + {k * 7 + 1}) % 3 = 0 OR rowid > {last})"
            conn.execute(f"UPDATE {t} SET {c} = {c} + 1 WHERE typeof({c}) IN "
                         f"('integer', 'real'){share}")
    conn.commit()


class NeighbourDatabases:
    """``count`` neighbours per SQLite database of ``database_manager``, built on first use."""

    def __init__(self, database_manager: DatabaseManager, count: int = 3) -> None:
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        self.database_manager = database_manager
        self.count = int(count)
        self._lock = threading.Lock()
        self._root: Path | None = None
        self._managers: dict[str, DatabaseManager | None] = {}

    def _source(self, db_id: str) -> Path | None:
        engine = self.database_manager.engine
        if self.database_manager.db_type != "sqlite" or not hasattr(engine, "path_of"):
            return None
        path = Path(engine.path_of(db_id))
        return path if path.is_file() and path.stat().st_size <= MAX_COPY_BYTES else None

    def manager(self, db_id: str) -> DatabaseManager | None:
        """The manager over ``db_id``'s neighbours (db_ids ``n0``..), or None when it has none."""
        with self._lock:
            if db_id in self._managers:
                return self._managers[db_id]
            source = self._source(db_id)
            if source is None:
                self._managers[db_id] = None
                return None
            if self._root is None:
                self._root = Path(tempfile.mkdtemp(prefix="sqlsynth-neighbours-"))
            folder = self._root / f"db{len(self._managers)}"
            folder.mkdir()
            src = sqlite3.connect(source.as_uri() + "?mode=ro", uri=True)
            try:
                for k in range(self.count):
                    dst = sqlite3.connect(folder / f"n{k}.sqlite")
                    try:
                        src.backup(dst)
                        perturb(dst, k)
                    finally:
                        dst.close()
            finally:
                src.close()
            dbm = self.database_manager
            made = DatabaseManager("sqlite", {"root_path": str(folder)}, timeout=dbm.timeout,
                                   max_rows=dbm.max_rows, max_workers=2,
                                   allowed_functions=dbm.allowed_functions)
            self._managers[db_id] = made
            return made

    async def asame_meaning(self, db_id: str, sql_a: str, sql_b: str, *,
                            ordered: bool) -> bool | None:
        """False when a neighbour tells the two queries apart; True when every neighbour on
        which both return a complete result agrees; None when none could be asked."""
        dbm = self.manager(db_id)
        if dbm is None:
            return None
        names = [f"n{k}" for k in range(self.count)]
        results = await dbm.aexecute_many([(n, sql) for n in names for sql in (sql_a, sql_b)])
        asked = 0
        for i in range(0, len(results), 2):
            a, b = results[i], results[i + 1]
            if not (comparable(a) and comparable(b)):
                continue
            asked += 1
            if not results_match(a, b, ordered=ordered):
                return False
        return True if asked else None

    def close(self) -> None:
        """Close the neighbours' managers and delete the copies (a later use builds anew)."""
        with self._lock:
            for dbm in self._managers.values():
                if dbm is not None:
                    dbm.close()
            self._managers.clear()
            if self._root is not None:
                shutil.rmtree(self._root, ignore_errors=True)
                self._root = None
