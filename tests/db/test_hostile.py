"""Attacker's corpus: hostile statements must be refused or harmless on every engine.

Each case checks the verdict, then that the data is unchanged (row checksums on every engine,
the SQLite file's sha256), that no file appeared where the statement tried to write one, and
that the pooled connection is still healthy and still read-only afterwards.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from sqlsynth.db import ExecStatus
from sqlsynth.db.engines.base import RunLimits
from sqlsynth.db.pool import PooledConnection
from tests.db import dataset

DB = dataset.DB_ID
REFUSED = {ExecStatus.FORBIDDEN, ExecStatus.SYNTAX_ERROR, ExecStatus.RUNTIME_ERROR}
STOPPED = {ExecStatus.TIMEOUT, ExecStatus.TOO_LARGE}
EVIL = "{evil}"  # replaced by a path inside the test's tmp folder

# Refused on every engine (guard, or engine for what the dialect cannot even parse).
COMMON = [
    "INSERT INTO singer VALUES (9, 'X', 'Y', 1)",
    "INSERT INTO singer SELECT singer_id + 100, name, country, age FROM singer",
    "REPLACE INTO singer VALUES (1, 'X', 'Y', 1)",
    "UPDATE singer SET age = 0",
    "DELETE FROM concert",
    "DROP TABLE concert",
    "TRUNCATE TABLE concert",
    "ALTER TABLE singer RENAME TO s2",
    "CREATE TABLE evil (a INTEGER)",
    "CREATE TEMP TABLE evil AS SELECT * FROM singer",
    "CREATE TEMPORARY TABLE evil (a INTEGER)",
    "CREATE VIEW evil AS SELECT 1",
    "CREATE INDEX evil ON singer(age)",
    "WITH x AS (SELECT 1) INSERT INTO singer SELECT 9, 'a', 'b', 1",
    "WITH x AS (SELECT 1) DELETE FROM singer",
    "WITH x AS (SELECT 1) UPDATE singer SET age = 1",
    "SELECT * INTO evil FROM singer",
    "SELECT * FROM singer FOR UPDATE",
    "SELECT 1; DELETE FROM concert",
    "SELECT 1;DELETE FROM concert",
    "SELECT 1 ;\n\t DELETE FROM concert ;",
    "SELECT 1;\u00a0DELETE FROM concert",
    "SELECT 1;\u200bDELETE FROM concert",
    "SELECT 1;\u3000DELETE FROM concert",
    "SELECT 1 /* comment */ ; DELETE FROM concert",
    "SELECT ';' ; DELETE FROM concert",
    "SELECT '--' ; DELETE FROM concert",
    "SELECT 1 -- c\n; DELETE FROM concert",
    "SELECT * FROM singer; DROP TABLE singer; --",
    "sElEcT 1;\tdElEtE\nfRoM concert",
    "  \n\tDELETE FROM concert",
    "dElEtE FROM concert",
    "COMMIT; DROP TABLE concert",
    "COMMIT",
    "ROLLBACK",
    "BEGIN",
    "BEGIN; DELETE FROM concert; COMMIT",
    "START TRANSACTION",
    "SAVEPOINT s",
    "RELEASE SAVEPOINT s",
    "SET autocommit = 1",
    "ANALYZE",
    "EXPLAIN DELETE FROM concert",
    "VALUES (1); DELETE FROM concert",
    "(SELECT 1); DELETE FROM concert",
    "SELECT 1 UNION ALL SELECT 2; DROP TABLE singer",
    "WITH a AS (SELECT 1) SELECT * FROM a; DELETE FROM concert",
]

PER_ENGINE = {
    "sqlite": [
        "ATTACH DATABASE '{evil}' AS evil",
        "ATTACH '{evil}' AS evil",
        "SELECT 1; ATTACH '{evil}' AS evil",
        "VACUUM",
        "VACUUM INTO '{evil}'",
        "VACUUM main INTO '{evil}'",
        "DETACH main",
        "PRAGMA writable_schema = 1",
        "PRAGMA query_only = OFF",
        "PRAGMA query_only = 0; DELETE FROM concert",
        "PRAGMA journal_mode = WAL",
        "PRAGMA user_version = 7",
        "PRAGMA main.journal_mode = DELETE",
        "SELECT load_extension('/nonexistent/evil')",
        "SELECT LOAD_EXTENSION('/nonexistent/evil', 'init')",
        "SELECT writefile('{evil}', 'x')",
        "SELECT readfile('/etc/passwd')",
        "SELECT * FROM pragma_table_info('singer')",
        "SELECT * FROM pragma_writable_schema",
        "SELECT fts3_tokenizer('simple')",
        "SELECT * FROM zipfile('{evil}')",
        "REINDEX",
        "INSERT OR REPLACE INTO singer VALUES (1, 'X', 'Y', 1)",
        "INSERT INTO singer VALUES (1, 'X', 'Y', 1) ON CONFLICT(singer_id) DO UPDATE SET age = 0",
        "UPSERT INTO singer VALUES (1, 'X', 'Y', 1)",
        "CREATE TRIGGER evil AFTER INSERT ON singer BEGIN DELETE FROM concert; END",
        "CREATE VIRTUAL TABLE evil USING fts5(a)",
        "DELETE FROM concert RETURNING *",
        "UPDATE singer SET age = 0 RETURNING *",
    ],
    "mysql": [
        "/*!50000 DROP TABLE singer */",
        "SELECT 1 /*!50000 ; DROP TABLE singer */",
        "SELECT 1 /*!, (SELECT count(*) FROM singer FOR UPDATE) */",
        "SELECT 1 /*M!100000 , 2 */",
        "/*!DELETE FROM concert*/",
        "SELECT /*+ MAX_EXECUTION_TIME(100000) */ SLEEP(100)",
        "SELECT 1 # x\n; DROP TABLE singer",
        "SELECT * FROM singer INTO OUTFILE '{evil}'",
        "SELECT * FROM singer INTO DUMPFILE '{evil}'",
        "SELECT name INTO OUTFILE '{evil}' FROM singer",
        "SELECT * FROM singer LIMIT 1 INTO DUMPFILE '{evil}'",
        "(SELECT 1) INTO OUTFILE '{evil}'",
        "SELECT 1 UNION SELECT 2 INTO OUTFILE '{evil}'",
        "WITH a AS (SELECT 1) SELECT * FROM a INTO OUTFILE '{evil}'",
        "SELECT * FROM (SELECT 1 INTO OUTFILE '{evil}') t",
        "sElEcT\t*\nFROM singer\tinto\noutfile '{evil}'",
        "SELECT 1 INTO @x",
        "SELECT * FROM singer LOCK IN SHARE MODE",
        "SELECT * FROM singer FOR SHARE",
        "SELECT * FROM singer FOR UPDATE NOWAIT",
        "SELECT LOAD_FILE('/etc/passwd')",
        "SELECT load_file ('/etc/passwd')",
        "SELECT `load_file`('/etc/passwd')",
        "LOAD DATA INFILE '/etc/passwd' INTO TABLE singer",
        "LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE singer",
        "LOAD XML INFILE '/etc/passwd' INTO TABLE singer",
        "HANDLER singer OPEN",
        "HANDLER singer READ FIRST",
        "SELECT GET_LOCK('sqlsynth_evil', 10)",
        "SELECT RELEASE_ALL_LOCKS()",
        "SELECT IS_FREE_LOCK('x')",
        "SELECT MASTER_POS_WAIT('x', 1)",
        "SELECT MASTER_GTID_WAIT('0-1-1', 1)",
        "SELECT NEXT VALUE FOR s",
        "SELECT PREVIOUS VALUE FOR s",
        "SELECT NEXTVAL(s)",
        "SELECT SETVAL(s, 1)",
        "SELECT LASTVAL(s)",
        "SELECT sys_exec('id')",
        "SET SESSION TRANSACTION READ WRITE",
        "SET SESSION max_statement_time = 0",
        "SET @@session.transaction_read_only = 0",
        "SET GLOBAL read_only = 0",
        "SET ROLE NONE",
        "SET STATEMENT max_statement_time = 0 FOR SELECT SLEEP(100)",
        "SET @x = 1",
        "PREPARE s FROM 'DROP TABLE singer'",
        "EXECUTE s",
        "EXECUTE IMMEDIATE 'DROP TABLE singer'",
        "DEALLOCATE PREPARE s",
        "CALL mysql.evil()",
        "DO SLEEP(100)",
        "DO GET_LOCK('x', 1)",
        "XA START 'x'",
        "LOCK TABLES singer WRITE",
        "UNLOCK TABLES",
        "FLUSH TABLES",
        "KILL QUERY 1",
        "USE mysql",
        "INSTALL PLUGIN evil SONAME 'evil.so'",
        "GRANT ALL ON *.* TO 'x'@'%'",
        "INSERT INTO singer VALUES (1, 'X', 'Y', 1) ON DUPLICATE KEY UPDATE age = 0",
        "INSERT IGNORE INTO singer VALUES (9, 'X', 'Y', 1)",
        "DELETE FROM concert ORDER BY concert_id LIMIT 1",
        "RENAME TABLE singer TO s2",
        "OPTIMIZE TABLE singer",
        "REPAIR TABLE singer",
        "SHUTDOWN",
        # backslash escapes depend on NO_BACKSLASH_ESCAPES: refused as ambiguous
        'SELECT "a\\"; DROP TABLE singer; -- "',
        "SELECT '\\'; DROP TABLE singer; -- '",
        "SELECT BENCHMARK(1000, MD5('a'))",
    ],
    "postgres": [
        "WITH x AS (DELETE FROM concert RETURNING *) SELECT * FROM x",
        "WITH x AS (INSERT INTO singer VALUES (9, 'a', 'b', 1) RETURNING *) SELECT * FROM x",
        "WITH x AS (UPDATE singer SET age = 1 RETURNING *) SELECT count(*) FROM x",
        "WITH x AS MATERIALIZED (DELETE FROM concert RETURNING *) SELECT 1",
        "WITH RECURSIVE r AS (SELECT 1), d AS (DELETE FROM concert) SELECT * FROM r",
        "SELECT * INTO TEMP evil FROM singer",
        "SELECT * INTO UNLOGGED evil FROM singer",
        "SELECT * FROM singer FOR NO KEY UPDATE",
        "SELECT * FROM singer FOR KEY SHARE",
        "SELECT * FROM singer FOR SHARE",
        "SET ROLE postgres",
        "SET SESSION AUTHORIZATION postgres",
        "SET default_transaction_read_only = off",
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
        "SET TRANSACTION READ WRITE",
        "SET statement_timeout = 0",
        "RESET ALL",
        "END",
        "ABORT",
        "COMMIT; SET default_transaction_read_only = off; DELETE FROM concert",
        "START TRANSACTION READ WRITE",
        "DO $$BEGIN DELETE FROM concert; END$$",
        "DO 'BEGIN DELETE FROM concert; END'",
        "CALL evil()",
        "PREPARE p AS DELETE FROM concert",
        "EXECUTE p",
        "DEALLOCATE ALL",
        "DISCARD ALL",
        "DECLARE c CURSOR FOR SELECT 1",
        "LISTEN evil",
        "NOTIFY evil",
        "LOCK TABLE singer",
        "CHECKPOINT",
        "LOAD 'evil'",
        "VACUUM singer",
        "COPY singer TO '{evil}'",
        "COPY (SELECT 1) TO PROGRAM 'touch {evil}'",
        "COPY singer FROM '/etc/passwd'",
        "SELECT pg_terminate_backend(pg_backend_pid())",
        "SELECT pg_cancel_backend(pg_backend_pid())",
        "SELECT pg_catalog.pg_terminate_backend(1)",
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        "SELECT SET_CONFIG('statement_timeout', '0', false)",
        "SELECT \"set_config\"('statement_timeout', '0', false)",
        "SELECT pg_catalog.set_config('statement_timeout', '0', false)",
        "SELECT nextval('s')",
        "SELECT pg_catalog.nextval('s')",
        "SELECT setval('s', 1)",
        "SELECT currval('s')",
        "SELECT lastval()",
        "SELECT lo_import('/etc/passwd')",
        "SELECT lo_export(1, '{evil}')",
        "SELECT lo_creat(-1)",
        "SELECT lo_from_bytea(0, 'x')",
        "SELECT lowrite(0, 'x')",
        "SELECT pg_file_write('{evil}', 'x', false)",
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT pg_read_binary_file('/etc/passwd')",
        "SELECT pg_ls_dir('.')",
        "SELECT pg_stat_file('.')",
        "SELECT dblink('dbname=concert', 'DELETE FROM concert')",
        "SELECT * FROM dblink('dbname=concert', 'SELECT 1') AS t(a int)",
        "SELECT dblink_exec('dbname=concert', 'DELETE FROM concert')",
        "SELECT pg_advisory_lock(1)",
        "SELECT pg_try_advisory_lock(1)",
        "SELECT pg_advisory_lock_shared(1)",
        "SELECT pg_advisory_unlock_all()",
        "SELECT pg_notify('evil', 'x')",
        "SELECT pg_reload_conf()",
        "SELECT pg_switch_wal()",
        "SELECT txid_current()",
        "SELECT pg_current_xact_id()",
        "SELECT pg_create_physical_replication_slot('evil')",
        "SELECT pg_create_logical_replication_slot('evil', 'test_decoding')",
        "SELECT pg_drop_replication_slot('evil')",
        "SELECT pg_replication_origin_create('evil')",
        "SELECT pg_stat_reset()",
        "SELECT pg_backup_start('evil')",
        "SELECT pg_logical_emit_message(true, 'x', 'y')",
        "SELECT query_to_xml('DELETE FROM concert', true, true, '')",
        "SELECT query_to_xml('SELECT pg_terminate_backend(1)', true, true, '')",
        "SELECT ts_stat('SELECT to_tsvector(name) FROM singer')",
        "SELECT 1; SELECT 2",
        "SELECT $$;$$ ; DELETE FROM concert",
        "SELECT '\\'; DELETE FROM concert; --'",
        # dollar quotes, nested comments and E'' escapes lex differently elsewhere: refused
        "SELECT $a$ $b$; DELETE FROM concert; $a$",
        "SELECT 1 /* nested /* comment */ ; DELETE FROM concert; */",
        "SELECT E'\\'; DELETE FROM concert; --'",
    ],
}

# Accepted, and must be harmless: read-only on every wall, data and files unchanged.
HARMLESS = {
    "sqlite": [
        "SELECT * FROM sqlite_master",
        "SELECT char(59) || 'DROP TABLE singer'",
        "SELECT 'DELETE FROM concert; --' AS x",
        'SELECT "delete" FROM (SELECT 1 AS "delete")',
        "sElEcT\tcount(*)\nFROM\r\nsinger",
        "SELECT replace(name, 'a', 'b') FROM singer",
    ],
    "mysql": [
        "SELECT 'a'';DROP TABLE singer;--'",
        "SELECT @@session.autocommit",
        "SELECT IS_USED_LOCK('x')",
        "sElEcT\tcount(*)\nFROM\r\nsinger",
    ],
    "postgres": [
        "SELECT current_setting('default_transaction_read_only')",
        "SELECT table_to_xml('singer', true, true, '')",
        "sElEcT\tcount(*)\nFROM\r\nsinger",
    ],
}

# Must be stopped by the time limit or the size cap, quickly, without exhausting memory.
RUNAWAY = {
    "sqlite": [
        "SELECT randomblob(1000000000)",
        "SELECT zeroblob(1000000000)",
        "SELECT length(randomblob(999999999))",
        (
            "SELECT group_concat(hex(randomblob(1000))) FROM (WITH RECURSIVE c(x) AS "
            "(SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c)"
        ),
        (
            "SELECT count(*) FROM singer a, singer b, singer c, singer d, singer e, singer f, "
            "singer g, singer h, singer i, singer j, singer k, singer l"
        ),
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c",
    ],
    "mysql": [
        "SELECT SLEEP(100)",
        "SELECT BENCHMARK(10000000000, MD5('a'))",
        (
            "SELECT count(*) FROM singer a, singer b, singer c, singer d, singer e, singer f, "
            "singer g, singer h, singer i, singer j, singer k, singer l"
        ),
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c",
        (
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
            "SELECT REPEAT('x', 1000000) FROM c"
        ),
    ],
    "postgres": [
        "SELECT pg_sleep(100)",
        "SELECT pg_sleep_for('100 seconds')",
        "SELECT repeat('x', 1000000000)",
        "SELECT repeat('x', 100000000) FROM generate_series(1, 1000)",
        "SELECT CASE WHEN g > 1 THEN repeat('x', 50000000) END FROM generate_series(1, 1000) g",
        "SELECT count(*) FROM generate_series(1, 100000000000)",
        "SELECT string_agg(md5(g::text), '') FROM generate_series(1, 1000000000) g",
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c",
    ],
}

# Huge but legal outputs: the row cap (or size cap) must stop fetching early.
HUGE_OUTPUT = (
    "SELECT a.name, b.name, c.name, d.name, e.name, f.name, g.name FROM singer a, singer b, "
    "singer c, singer d, singer e, singer f, singer g, singer h, singer i, singer j"
)

# The engine's own wall, with the guard bypassed: none of these may change anything.
WALL = {
    "sqlite": [
        "ATTACH DATABASE '{evil}' AS evil",
        "VACUUM INTO '{evil}'",
        "PRAGMA writable_schema = 1",
        "PRAGMA query_only = OFF",
        "SELECT load_extension('/nonexistent/evil')",
        "REPLACE INTO singer VALUES (1, 'X', 'Y', 1)",
        "CREATE TEMP TABLE evil AS SELECT 1",
        "SELECT 1; DELETE FROM concert",
        "COMMIT",
        "BEGIN",
    ],
    "mysql": [
        "SELECT 1; DELETE FROM concert",
        "UPDATE singer SET age = 0",
        "REPLACE INTO singer VALUES (1, 'X', 'Y', 1)",
        "INSERT INTO singer SELECT singer_id + 100, name, country, age FROM singer",
        "COMMIT; DELETE FROM concert",
    ],
    "postgres": [
        "SELECT 1; COMMIT; SET default_transaction_read_only = off; DELETE FROM concert",
        "WITH x AS (DELETE FROM concert RETURNING *) SELECT * FROM x",
        "SELECT * INTO evil FROM singer",
        "SELECT lo_creat(-1)",
        "SELECT nextval('no_such_seq')",
        "DO $$BEGIN DELETE FROM concert; END$$",
    ],
}


WALL_ROLLED_BACK = {"SELECT lo_creat(-1)"}


def _cases(table: dict[str, list[str]]) -> list:
    marks = {"sqlite": [], "mysql": [pytest.mark.servers], "postgres": [pytest.mark.servers]}
    out = []
    for kind, sqls in table.items():
        for sql in sqls:
            out.append(pytest.param(kind, sql, marks=marks[kind], id=f"{kind}-{repr(sql)[:60]}"))
    return out


def _common_cases() -> list:
    out = []
    for kind in ("sqlite", "mysql", "postgres"):
        marks = [] if kind == "sqlite" else [pytest.mark.servers]
        for sql in COMMON:
            out.append(pytest.param(kind, sql, marks=marks, id=f"{kind}-{repr(sql)[:60]}"))
    return out


# -- helpers ---------------------------------------------------------------------------------
def _snapshot(manager, kind: str) -> dict:
    """Row counts, a checksum of every row, the table list and (SQLite) the file digest."""
    out: dict = {}
    conn = manager.engine.connect(DB)
    try:
        if kind == "sqlite":
            cur = conn.cursor()
            names = [r[0] for r in cur.execute("SELECT name FROM sqlite_master ORDER BY name")]
            out["objects"] = names
            path = manager.engine.path_of(DB)
            out["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
            out["folder"] = sorted(p.name for p in path.parent.iterdir())
        elif kind == "mysql":
            cur = conn.cursor()
            cur.execute("SHOW TABLES")
            out["objects"] = sorted(r[0] for r in cur.fetchall())
        else:
            cur = conn.cursor()
            cur.execute(
                "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                "ORDER BY 1"
            )
            out["objects"] = [r[0] for r in cur.fetchall()]
            cur.execute("SELECT count(*) FROM pg_largeobject_metadata")
            out["large_objects"] = cur.fetchone()[0]
        for table in dataset.TABLES:
            cur.execute(f"SELECT * FROM {table} ORDER BY 1")
            rows = cur.fetchall()
            out[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
        if kind != "sqlite":
            conn.rollback()
    finally:
        manager.engine.close_connection(conn)
    return out


def _read_only_flag(manager, kind: str, raw) -> bool:
    """The pooled connection's own read-only setting (not the guard's)."""
    if kind == "sqlite":
        from sqlsynth.db.engines.sqlite import _authorizer

        raw.set_authorizer(None)  # the authorizer refuses this pragma; lift it to look
        try:
            return raw.execute("PRAGMA query_only").fetchone()[0] == 1
        finally:
            raw.set_authorizer(_authorizer)
    if kind == "mysql":
        with raw.cursor() as cur:
            cur.execute(  # the name changed across MySQL/MariaDB versions
                "SHOW SESSION VARIABLES WHERE Variable_name "
                "IN ('transaction_read_only', 'tx_read_only')"
            )
            found = cur.fetchone()
            value = 1 if str(found[1]).upper() in ("1", "ON") else 0
        raw.rollback()
        return int(value) == 1
    value = raw.execute("SHOW default_transaction_read_only").fetchone()[0]
    raw.rollback()
    return value == "on"


def _worker_read_only(manager, kind: str) -> bool:
    """The worker connection's own read-only setting (not the guard's), read through it."""
    sql = {
        "mysql": "SELECT @@session.tx_read_only",
        "postgres": "SELECT current_setting('default_transaction_read_only')",
    }.get(kind)
    if sql is None:  # SQLite: mode=ro and the authorizer; a write must fail below the guard
        res = manager._raw_run(DB, "DELETE FROM concert", RunLimits(5.0, 10, 10**6), False)
        return res.status is ExecStatus.FORBIDDEN
    res = manager._raw_run(DB, sql, RunLimits(5.0, 10, 10**6), False)
    assert res.ok, res
    return str(res.rows[0][0]).lower() in ("1", "on")


def _assert_healthy(manager, kind: str) -> None:
    """After any hostile statement: normal queries work, writes are still refused, and the
    worker's connection is still read-only at the engine level."""
    manager.clear_cache()
    res = manager.execute(DB, "SELECT count(*) FROM singer")
    assert res.ok and int(res.rows[0][0]) == dataset.COUNTS["singer"], res
    assert manager.execute(DB, "DELETE FROM concert").status is ExecStatus.FORBIDDEN
    assert _worker_read_only(manager, kind)
    res = manager._raw_run(DB, "DELETE FROM concert", RunLimits(5.0, 10, 10**6), False)
    assert res.status is ExecStatus.FORBIDDEN, res
    res = manager.execute(DB, "SELECT name FROM singer ORDER BY singer_id LIMIT 1")
    assert res.ok and res.rows == (("Joe Sharp",),), res


def _evil_paths(tmp_path: Path) -> tuple[str, list[Path]]:
    tmp_path.chmod(0o777)  # so a server running as another user could write here if let
    evil = tmp_path / "evil.out"
    return str(evil), [evil, tmp_path / "evil.out.db", Path(str(evil) + "-journal")]


# Sleeping is refused by the guard (deny-by-default functions); the deadline tests allow it
# by name, the way a user would in the config (allowed_functions).
SLEEP_FUNCTIONS = ("sleep", "benchmark", "pg_sleep", "pg_sleep_for")


@pytest.fixture
def hostile_manager(make_manager):
    # One connection per database, so the health check inspects the very connection the
    # hostile statement ran on.
    return make_manager(
        timeout=2.0, per_db_concurrency=1, max_workers=1, max_result_bytes=4 * 2**20
    )


# -- tests -----------------------------------------------------------------------------------
def _check_refused(manager, kind, sql, tmp_path):
    evil, paths = _evil_paths(tmp_path)
    sql = sql.replace(EVIL, evil)
    before = _snapshot(manager, kind)
    res = manager.execute(DB, sql)
    assert res.status in REFUSED, (sql, res)
    assert not res.rows
    assert manager.explain(DB, sql).status in REFUSED
    assert _snapshot(manager, kind) == before
    assert not [p for p in paths if p.exists()]
    assert not list(tmp_path.iterdir()), list(tmp_path.iterdir())
    _assert_healthy(manager, kind)


@pytest.mark.parametrize(("engine_kind", "sql"), _common_cases(), indirect=["engine_kind"])
def test_common_hostile_statements_are_refused(hostile_manager, engine_kind, sql, tmp_path):
    _check_refused(hostile_manager, engine_kind, sql, tmp_path)


@pytest.mark.parametrize(("engine_kind", "sql"), _cases(PER_ENGINE), indirect=["engine_kind"])
def test_engine_specific_hostile_statements_are_refused(
    hostile_manager, engine_kind, sql, tmp_path
):
    _check_refused(hostile_manager, engine_kind, sql, tmp_path)


@pytest.mark.parametrize(("engine_kind", "sql"), _cases(HARMLESS), indirect=["engine_kind"])
def test_tricky_but_harmless_queries_run_and_change_nothing(
    hostile_manager, engine_kind, sql, tmp_path
):
    before = _snapshot(hostile_manager, engine_kind)
    res = hostile_manager.execute(DB, sql)
    assert res.ok, (sql, res)
    assert _snapshot(hostile_manager, engine_kind) == before
    assert not list(tmp_path.iterdir())
    _assert_healthy(hostile_manager, engine_kind)


@pytest.mark.parametrize(("engine_kind", "sql"), _cases(RUNAWAY), indirect=["engine_kind"])
def test_runaway_queries_are_stopped(make_manager, engine_kind, sql):
    hostile_manager = make_manager(
        timeout=2.0,
        per_db_concurrency=1,
        max_result_bytes=4 * 2**20,
        allowed_functions=SLEEP_FUNCTIONS,
    )
    before = _snapshot(hostile_manager, engine_kind)
    start = time.monotonic()
    res = hostile_manager.execute(DB, sql)
    elapsed = time.monotonic() - start
    assert res.status in STOPPED, (sql, res)
    assert not res.rows
    assert elapsed < 10.0, f"{sql}: took {elapsed:.1f}s"  # limit 2s; generous bound
    assert _snapshot(hostile_manager, engine_kind) == before
    _assert_healthy(hostile_manager, engine_kind)


@pytest.mark.parametrize("engine_kind", ["sqlite"], indirect=True)
def test_gigabyte_printf_is_bounded(hostile_manager, engine_kind):
    """SQLite's printf gives NULL once the string passes the length limit: bounded, harmless."""
    res = hostile_manager.execute(DB, "SELECT printf('%.*c', 1000000000, 'x')")
    assert res.status in STOPPED or res.rows == ((None,),), res
    _assert_healthy(hostile_manager, engine_kind)


def test_huge_cross_join_hits_the_row_cap_quickly(hostile_manager, engine_kind):
    start = time.monotonic()
    res = hostile_manager.execute(DB, HUGE_OUTPUT, max_rows=500)
    # MariaDB's join buffers may hold back the first rows past the limit: a timeout is fine.
    assert (res.ok and res.truncated and len(res.rows) == 500) or res.status in STOPPED, res
    assert time.monotonic() - start < 5.0
    res = hostile_manager.execute(DB, HUGE_OUTPUT, max_rows=10**9)
    assert res.status in STOPPED, res  # 9.7M rows: size cap (4 MiB) or time limit
    _assert_healthy(hostile_manager, engine_kind)


def test_rows_growing_huge_after_small_ones_hit_the_size_cap(make_manager, engine_kind):
    """Small first rows then huge ones: the cap is checked per row, not per fetched chunk."""
    manager = make_manager(timeout=15.0, per_db_concurrency=1, max_result_bytes=2**20)
    series = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200)"
    big = {
        "sqlite": "CASE WHEN x > 2 THEN hex(zeroblob(400000)) ELSE 'a' END",
        "mysql": "IF(x > 2, REPEAT('x', 800000), 'a')",
        "postgres": "CASE WHEN x > 2 THEN repeat('x', 800000) ELSE 'a' END",
    }[engine_kind]
    res = manager.execute(DB, f"{series} SELECT {big} FROM c")
    assert res.status is ExecStatus.TOO_LARGE, res
    _assert_healthy(manager, engine_kind)


@pytest.mark.parametrize(("engine_kind", "sql"), _cases(WALL), indirect=["engine_kind"])
@pytest.mark.parametrize("explain", [False, True], ids=["run", "explain"])
def test_engine_wall_alone_refuses(hostile_manager, engine_kind, sql, explain, tmp_path):
    """Bypass the guard: the engine's read-only connection must still refuse."""
    manager = hostile_manager
    evil, paths = _evil_paths(tmp_path)
    sql = sql.replace(EVIL, evil)
    before = _snapshot(manager, engine_kind)
    conn = manager.engine.connect(DB)
    handle = PooledConnection(conn)
    try:
        res = manager.engine.run(handle, sql, RunLimits(2.0, 100, 10**6), explain=explain)
        # EXPLAIN plans without running; large objects are transactional (rolled back).
        if not explain and sql not in WALL_ROLLED_BACK:
            assert res.status in REFUSED, (sql, res)
        if not handle.discard:  # a connection kept for reuse must still be read-only
            assert _read_only_flag(manager, engine_kind, conn)
    finally:
        manager.engine.close_connection(conn)
    assert _snapshot(manager, engine_kind) == before
    assert not [p for p in paths if p.exists()]
    _assert_healthy(manager, engine_kind)


def test_timeout_then_reuse_keeps_the_session_read_only(make_manager, engine_kind):
    """A statement killed mid-flight must not leave an open or writable transaction behind."""
    manager = make_manager(timeout=1.0, per_db_concurrency=1, allowed_functions=SLEEP_FUNCTIONS)
    slow = {
        "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) "
        "SELECT max(x) FROM c",
        "mysql": "SELECT SLEEP(30)",
        "postgres": "SELECT pg_sleep(30)",
    }[engine_kind]
    for _ in range(3):
        manager.clear_cache()
        assert manager.execute(DB, slow).status is ExecStatus.TIMEOUT
        _assert_healthy(manager, engine_kind)
