"""What an attack could have changed, captured before and after it (shared by the corpus
tests and `bench/hostile.py`).

Everything is read from outside sqlsynth (admin connections, the file system), except the
session state, which is read through the very worker connection the attack ran on (the
manager under test has one worker and one connection per database).
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlsynth.db import DatabaseManager, ExecResult, ExecStatus
from sqlsynth.db.engines.base import RunLimits
from sqlsynth.testing.hostile import Attack
from tests.db import dataset

DB = dataset.DB_ID
REFUSED = {ExecStatus.FORBIDDEN, ExecStatus.SYNTAX_ERROR, ExecStatus.RUNTIME_ERROR}
STOPPED = {ExecStatus.TIMEOUT, ExecStatus.TOO_LARGE}
# global variables that move on their own (counters, clocks), not settings an attack could set
_VOLATILE_MYSQL = ("gtid_", "timestamp", "last_insert_id", "innodb_buffer_pool_dump_now",
                   "warning_count", "error_count", "rand_seed", "pseudo_thread_id")

SESSION_PROBES = {
    "sqlite": [
        "SELECT count(*) FROM sqlite_temp_master",
        "PRAGMA database_list",
    ],
    "mysql": [
        ("SELECT @leak, @v, @@session.sql_mode, @@session.tx_read_only, "
        "@@session.autocommit, @@session.character_set_client, @@session.time_zone"),
        "SELECT IS_USED_LOCK('sqlsynth_leak') IS NULL, IS_USED_LOCK('x') IS NULL",
        "SELECT FOUND_ROWS() IS NOT NULL, LAST_INSERT_ID()",
    ],
    "postgres": [
        ("SELECT current_user, session_user, current_setting('search_path'), "
        "current_setting('standard_conforming_strings'), "
        "current_setting('default_transaction_read_only'), current_setting('TimeZone'), "
        "current_setting('lock_timeout'), current_setting('work_mem')"),
        ("SELECT (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
        "AND pid = pg_backend_pid()), (SELECT count(*) FROM pg_prepared_statements), "
        "(SELECT count(*) FROM pg_cursors), (SELECT count(*) FROM pg_listening_channels()), "
        "(SELECT count(*) FROM pg_class WHERE relpersistence = 't')"),
    ],
}


def _listing(folder: Path | None) -> list[str]:
    if folder is None or not folder.exists():
        return []
    out = []
    for root, _dirs, files in os.walk(folder):
        for name in files:
            if name.startswith(("#sql", "ib_", "aria_log", "ddl_recovery", "pg_")):
                continue  # engine-owned scratch and log files
            rel = os.path.relpath(os.path.join(root, name), folder)
            if rel.startswith(("pg_wal", "pg_stat", "pg_xact", "pg_subtrans", "pg_multixact",
                               "pg_logical", "pg_notify", "global", "base")):
                continue  # PostgreSQL's own storage: data checksums cover the tables
            out.append(rel)
    return sorted(out)


@dataclass
class Target:
    """One engine under attack: how to snapshot it, where files must not appear."""

    kind: str
    manager: DatabaseManager
    server: Any = None  # tests.servers.Server
    sqlite_path: Path | None = None
    evil_dir: Path | None = None
    watched_dirs: list[Path] = field(default_factory=list)

    def evil_path(self) -> str:
        assert self.evil_dir is not None
        return str(self.evil_dir / "evil.out")

    # -- data, files, server settings -------------------------------------------------------
    def snapshot(self) -> dict:
        out: dict = {"files": {str(d): _listing(d) for d in self.watched_dirs}}
        if self.kind == "sqlite":
            assert self.sqlite_path is not None
            out["sha256"] = hashlib.sha256(self.sqlite_path.read_bytes()).hexdigest()
            out["folder"] = sorted(p.name for p in self.sqlite_path.parent.iterdir())
            return out
        if self.kind == "mysql":
            import pymysql

            conn = pymysql.connect(**self.server.admin, database=DB, autocommit=True)
            try:
                with conn.cursor() as cur:
                    cur.execute("SHOW DATABASES")
                    out["databases"] = sorted(r[0] for r in cur.fetchall())
                    cur.execute("SHOW FULL TABLES")
                    out["objects"] = sorted(map(tuple, cur.fetchall()))
                    for table in dataset.TABLES:
                        cur.execute(f"SELECT * FROM {table} ORDER BY 1")
                        out[table] = hashlib.sha256(repr(cur.fetchall()).encode()).hexdigest()
                    cur.execute("SHOW GLOBAL VARIABLES")
                    out["globals"] = {
                        k: v for k, v in cur.fetchall() if not k.startswith(_VOLATILE_MYSQL)
                    }
                    cur.execute("SELECT user, host FROM mysql.user ORDER BY 1, 2")
                    out["users"] = cur.fetchall()
                    cur.execute("SELECT IS_USED_LOCK('sqlsynth_leak'), IS_USED_LOCK('x')")
                    out["user_locks"] = cur.fetchone()
                    cur.execute("SELECT count(*) FROM mysql.proc")
                    out["routines"] = cur.fetchone()
            finally:
                conn.close()
            return out
        import psycopg

        with psycopg.connect(**{**self.server.admin, "dbname": DB}, autocommit=True) as conn:
            out["objects"] = conn.execute(
                "SELECT relname, relkind FROM pg_class WHERE relnamespace = "
                "'public'::regnamespace ORDER BY 1"
            ).fetchall()
            for table in dataset.TABLES:
                rows = conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
                out[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
            out["settings"] = conn.execute(
                "SELECT name, setting FROM pg_settings WHERE source NOT IN ('session', "
                "'client') ORDER BY 1"
            ).fetchall()
            out["role_settings"] = conn.execute(
                "SELECT setdatabase, setrole, setconfig::text FROM pg_db_role_setting ORDER BY 1, 2"
            ).fetchall()
            out["file_settings"] = conn.execute(
                "SELECT name, setting FROM pg_file_settings ORDER BY 1, 2"
            ).fetchall()
            out["advisory_locks"] = conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
            ).fetchone()
            out["large_objects"] = conn.execute(
                "SELECT count(*) FROM pg_largeobject_metadata"
            ).fetchone()
            out["roles"] = conn.execute(
                "SELECT rolname, rolsuper FROM pg_roles ORDER BY 1"
            ).fetchall()
            out["functions"] = conn.execute(
                "SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace"
            ).fetchone()
        return out

    # -- the worker connection's session state ----------------------------------------------
    def session_state(self) -> list:
        out = []
        for sql in SESSION_PROBES[self.kind]:
            res = self.manager._raw_run(DB, sql, RunLimits(10.0, 100, 10**6), False)
            out.append((res.status.value, res.rows, res.error))
        return out


@dataclass
class Outcome:
    attack: Attack
    result: ExecResult | None
    explain: ExecResult | None
    elapsed: float
    explain_elapsed: float
    problems: list[str]
    after: dict = field(default_factory=dict)  # the snapshot and session state it left
    state: list = field(default_factory=list)

    @property
    def category(self) -> str:
        res = self.result
        if res is None:
            return "exception"
        if res.status in STOPPED or res.truncated:
            return "limited"
        if res.ok:
            return "allowed"
        return "refused"


def run_attack(target: Target, attack: Attack, limit: float, baseline: dict,
               session: list) -> Outcome:
    """Run one attack through execute and explain; list everything that went wrong."""
    sql = attack.sql_for(target.evil_path())
    problems: list[str] = []
    result = explain = None
    target.manager.clear_cache()
    start = time.monotonic()
    try:
        result = target.manager.execute(DB, sql)
    except Exception as exc:  # noqa: BLE001 - the finding is that it escaped
        problems.append(f"execute raised {type(exc).__name__}: {exc}")
    elapsed = time.monotonic() - start
    start = time.monotonic()
    try:
        explain = target.manager.explain(DB, sql)
    except Exception as exc:  # noqa: BLE001
        problems.append(f"explain raised {type(exc).__name__}: {exc}")
    explain_elapsed = time.monotonic() - start
    if result is not None:
        if attack.expect == "refused" and result.ok:
            problems.append(f"expected refused, ran: {result.rows[:1]!r}")
        # refusing it outright (the guard denies sleep/benchmark by default) stops it too
        if attack.expect == "limited" and result.ok and not result.truncated:
            problems.append("expected a limit or a refusal to stop it, but it ran to the end")
        if not result.ok and result.rows:
            problems.append("a failed statement returned rows")
    if explain is not None and attack.expect == "refused" and result is not None \
            and result.status is ExecStatus.FORBIDDEN and explain.ok:
        problems.append("refused by execute but explain accepted it")
    after = target.snapshot()
    for key in sorted(set(baseline) | set(after)):
        if baseline.get(key) != after.get(key):
            problems.append(f"changed: {key}")
    state = target.session_state()
    if state != session:
        problems.append(f"session state changed: {session!r} -> {state!r}")
    return Outcome(attack, result, explain, elapsed, explain_elapsed, problems, after, state)
