"""MySQL and MariaDB through pymysql (imported lazily).

Every visible database except the system ones is a db_id, optionally restricted by the
config's `database` / `databases`. Read-only wall: the session's transactions are READ ONLY
and every query runs inside `START TRANSACTION READ ONLY` followed by a rollback. Time limit:
`max_statement_time` (MariaDB, seconds) or `max_execution_time` (MySQL, milliseconds), with a
`KILL QUERY` from a second connection as backup.

Lexical pinning: every session runs with a `sql_mode` made only of modes known not to change
how a statement is tokenized or parsed (no NO_BACKSLASH_ESCAPES, ANSI_QUOTES, PIPES_AS_CONCAT,
IGNORE_SPACE, ANSI, ORACLE, ...), whatever the server's global mode, so the statement the
guard checked is the statement the server reads. After every statement the connection is reset
(COM_RESET_CONNECTION: user variables, user locks, temporary tables, session settings) and the
pinned settings are set again. The account is judged at connect (privileges.py).
"""

from __future__ import annotations

import contextlib
import math
import re
from typing import Any

from sqlsynth.db import mysql_reach, privileges
from sqlsynth.db.engines.base import (
    Engine,
    RowBudget,
    configured_databases,
    end_statement,
    fetch_into,
)
from sqlsynth.db.engines.metering import ResultTooLarge, metered_mysql_connection
from sqlsynth.db.result import ExecStatus
from sqlsynth.db.schema import Column, ForeignKey, Table, quote_ident
from sqlsynth.errors import DatabaseUnavailableError

SYSTEM_DATABASES = frozenset({"information_schema", "mysql", "performance_schema", "sys"})

_SYNTAX = {1064, 1149}  # ER_PARSE_ERROR, ER_SYNTAX_ERROR
_FORBIDDEN = {1792, 1290, 1142, 1143, 1044, 1045, 1227, 1370, 1465}
_TIMEOUT = {3024, 1969, 1317, 1028}  # max_execution_time, max_statement_time, killed
_COM_RESET_CONNECTION = 0x1F
# sql_mode parts that change neither tokenizing nor parsing; every other part is dropped
SAFE_SQL_MODES = frozenset(
    {
        "STRICT_TRANS_TABLES", "STRICT_ALL_TABLES", "ERROR_FOR_DIVISION_BY_ZERO",
        "NO_ENGINE_SUBSTITUTION", "ONLY_FULL_GROUP_BY", "NO_ZERO_DATE", "NO_ZERO_IN_DATE",
        "NO_AUTO_CREATE_USER", "NO_UNSIGNED_SUBTRACTION", "PAD_CHAR_TO_FULL_LENGTH",
        "TIME_TRUNCATE_FRACTIONAL", "ALLOW_INVALID_DATES", "NO_AUTO_VALUE_ON_ZERO",
        "NO_DIR_IN_CREATE", "SIMULTANEOUS_ASSIGNMENT", "REAL_AS_FLOAT",
    }
)


def pinned_sql_mode(server_mode: str) -> str:
    """The server's sql_mode without any part that changes how SQL text is read."""
    parts = [p.strip().upper() for p in str(server_mode or "").split(",")]
    return ",".join(p for p in parts if p in SAFE_SQL_MODES)


def _still_running(cur, thread_id: int) -> bool:
    """Whether server thread `thread_id` still runs a statement (processlist: a thread that
    ended its statement sleeps or is gone; one still working shows Query or Killed)."""
    cur.execute("SELECT COMMAND FROM information_schema.PROCESSLIST WHERE ID = %s", (thread_id,))
    row = cur.fetchone()
    return row is not None and str(row[0]).lower() != "sleep"


class MySQLEngine(Engine):
    db_type = "mysql"
    dialect = "mysql"
    engine_name = "MySQL"

    discard_after_partial_fetch = True  # an unbuffered result cannot be abandoned cheaply

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        self.only = configured_databases(config)
        self._flavour: str | None = None
        self._version = ""
        self._sql_mode: str | None = None
        self._facts: dict[str, tuple[tuple, mysql_reach.RoutineFacts]] = {}  # database -> facts

    def _connect_args(self, database: str | None) -> dict:
        c = self.config
        args: dict[str, Any] = {
            "host": c.get("host", "localhost"),
            "port": int(c.get("port") or 3306),
            "user": c.get("user") or c.get("username") or "root",
            "password": c.get("password") or "",
            "charset": c.get("charset", "utf8mb4"),
            "autocommit": True,
            "connect_timeout": int(c.get("connect_timeout", 10)),
            "client_flag": 0,  # never CLIENT_MULTI_STATEMENTS
        }
        if c.get("unix_socket"):
            args["unix_socket"] = c["unix_socket"]
        if database:
            args["database"] = database
        return args

    def _raw_connect(self, database: str | None = None, *, discovery: bool = False):
        import pymysql

        args = self._connect_args(database)
        if discovery:  # catalog queries in the main process: a frozen server cannot hang them
            args["read_timeout"] = args["write_timeout"] = max(10, args["connect_timeout"])
        try:
            return metered_mysql_connection(**args)
        except pymysql.err.OperationalError as exc:
            raise DatabaseUnavailableError(self.engine_name, args.get("unix_socket") or
                                           args["host"], args["port"], args["user"], database,
                                           exc) from exc

    def _detect(self, conn) -> None:
        if self._flavour is None:
            with conn.cursor() as cur:
                cur.execute("SELECT VERSION()")
                self._version = str(cur.fetchone()[0])
            self._flavour = "mariadb" if "mariadb" in self._version.lower() else "mysql"

    @property
    def is_mariadb(self) -> bool:
        return self._flavour == "mariadb"

    def server_version(self) -> str:
        if self._flavour is None:
            conn = self._raw_connect(discovery=True)
            try:
                self._detect(conn)
            finally:
                conn.close()
        return self._version

    def check_account(self, conn) -> None:
        """Refuse an account that reaches outside the database (see privileges.py)."""
        if self.account_checked:
            return
        with conn.cursor() as cur:
            cur.execute("SHOW GRANTS")
            lines = [str(r[0]) for r in cur.fetchall()]
            roles = []
            for line in lines:
                m = re.match(r"^\s*GRANT\s+(`[^`]+`|'[^']+')\s+TO\s", line, re.IGNORECASE)
                if m:
                    roles.append(m.group(1).strip("`'"))
            for role in roles:
                with contextlib.suppress(Exception):  # a role we may not inspect
                    cur.execute("SHOW GRANTS FOR %s", (role,))
                    lines += [str(r[0]) for r in cur.fetchall()]
        c = self.config
        only = self.only or []
        where = f"{c.get('unix_socket') or c.get('host', 'localhost')}:{c.get('port') or 3306}"
        user = str(c.get("user") or c.get("username") or "root")
        privileges.enforce(
            privileges.judge_mysql_grants(lines),
            engine=self.engine_name, where=where, user=user,
            statements=privileges.mysql_read_only_statements(only),
            allow_privileged=self.allow_privileged,
        )
        with conn.cursor() as cur:
            definer = mysql_reach.definer_reach(cur)
        if definer:  # runs with another account's rights: the account reaches beyond itself
            privileges.enforce(
                privileges.AccountReport(dangerous=definer[:8] + (
                    [f"... {len(definer) - 8} more"] if len(definer) > 8 else [])),
                engine=self.engine_name, where=where, user=user,
                statements=privileges.mysql_definer_statements()
                + privileges.mysql_read_only_statements(only),
                allow_privileged=self.allow_privileged,
            )
        self.account_checked = True

    def list_databases(self) -> list[str]:
        conn = self._raw_connect(discovery=True)
        try:
            self._detect(conn)
            self.check_account(conn)
            with conn.cursor() as cur:
                cur.execute("SHOW DATABASES")
                names = [r[0] for r in cur.fetchall()]
        finally:
            conn.close()
        visible = [n for n in names if n.lower() not in SYSTEM_DATABASES]
        if self.only is not None:
            visible = [n for n in visible if n in self.only]
        return sorted(visible)

    def connect(self, db_id: str):
        conn = self._raw_connect(db_id)
        try:
            self._detect(conn)
            self.check_account(conn)
            if self._sql_mode is None:
                with conn.cursor() as cur:
                    cur.execute("SELECT @@GLOBAL.sql_mode")
                    self._sql_mode = pinned_sql_mode(cur.fetchone()[0])
            self._pin(conn)
        except BaseException:
            self.close_connection(conn)
            raise
        return conn

    def _pin(self, conn) -> None:
        """The session settings every statement runs under (set again after each reset)."""
        # MariaDB silently cuts recursive CTEs after 1000 rounds and MySQL fails at 1000;
        # lift both so results match the other engines and only the time limit applies.
        depth = "max_recursive_iterations" if self.is_mariadb else "cte_max_recursion_depth"
        with conn.cursor() as cur:
            cur.execute(
                f"SET SESSION sql_mode = %s, SESSION {depth} = 4294967295",
                (self._sql_mode or "",),
            )
            cur.execute("SET SESSION TRANSACTION READ ONLY")
        conn._sqlsynth_limit = None  # last time limit set on this session

    def vet(self, conn, sql: str) -> str | None:
        """Refuse stored routines and routine-calling views the statement reaches, and on
        MariaDB the functions it cannot interrupt (see mysql_reach.py)."""
        with conn.cursor() as cur:
            cur.execute(mysql_reach.STAMP_SQL)
            stamp = tuple(cur.fetchone())
            database = conn.db.decode() if isinstance(conn.db, bytes) else str(conn.db)
            cached = self._facts.get(database)
            if cached is None or cached[0] != stamp:
                cached = (stamp, mysql_reach.load_facts(cur))
                self._facts[database] = cached
        return mysql_reach.refusal(sql, cached[1], self.allowed_functions,
                                   mariadb=self.is_mariadb)

    def reset(self, conn) -> bool:
        """COM_RESET_CONNECTION, then the pinned settings again; False: close it instead."""
        try:
            conn._execute_command(_COM_RESET_CONNECTION, b"")
            packet = conn._read_packet()
            if not packet.is_ok_packet():
                return False
            conn.autocommit_mode = True
            conn.autocommit(True)
            self._pin(conn)
        except Exception:  # noqa: BLE001 - a connection that cannot be reset is dropped
            return False
        return True

    def backend_id(self, conn) -> int | None:
        with contextlib.suppress(Exception):
            return int(conn.thread_id())
        return None

    def cancel_backend(self, backend_id: int) -> None:
        import pymysql

        args = self._connect_args(None)
        args.update(connect_timeout=2, read_timeout=2, write_timeout=2)
        killer = pymysql.connect(**args)
        try:
            with killer.cursor() as cur:
                ended = end_statement(
                    lambda sql: cur.execute(sql),
                    lambda: _still_running(cur, int(backend_id)),
                    [f"KILL QUERY {int(backend_id)}", f"KILL CONNECTION {int(backend_id)}"],
                )
            self.unended += 0 if ended else 1
        finally:
            killer.close()

    def _set_limit(self, conn, timeout: float) -> None:
        if not self.engine_side_timeout:
            timeout = 0.0  # 0 disables the server-side limit on both flavours
        if self.is_mariadb:
            value = f"{timeout:.3f}" if timeout <= 0 else f"{max(timeout, 0.001):.3f}"
            stmt = f"SET SESSION max_statement_time = {value}"
        else:
            value = "0" if timeout <= 0 else str(max(1, math.ceil(timeout * 1000)))
            stmt = f"SET SESSION max_execution_time = {value}"
        if conn._sqlsynth_limit != value:
            with conn.cursor() as cur:
                cur.execute(stmt)
            conn._sqlsynth_limit = value

    def _run(self, conn, sql, limits, deadline, explain):
        import pymysql.cursors

        self._set_limit(conn, limits.timeout)
        with conn.cursor() as cur:
            cur.execute("START TRANSACTION READ ONLY")
        cur = conn.cursor(pymysql.cursors.SSCursor)
        meter = getattr(conn, "sqlsynth_meter", None)
        try:
            if meter is not None:
                meter.start(limits.max_bytes)
            cur.execute(f"EXPLAIN {sql}" if explain else sql)
            columns = tuple(d[0] for d in cur.description or ())
            budget = RowBudget(limits, deadline)
            fetch_into(cur, budget)
        except Exception as exc:
            # a query killed mid-result leaves an unbuffered result open; release it here so
            # the rollback that follows starts from a clean protocol state (a result stopped
            # by the meter is not read to its end: that connection is discarded)
            if not isinstance(exc, ResultTooLarge):
                with contextlib.suppress(Exception):
                    cur.close()
            raise
        finally:
            if meter is not None:
                meter.start(None)
        if not (budget.truncated or budget.too_large):  # else the connection is discarded
            cur.close()
            conn.rollback()
        return columns, budget

    def interrupt(self, conn) -> None:
        killer = self._raw_connect()
        try:
            with killer.cursor() as cur:
                cur.execute(f"KILL QUERY {int(conn.thread_id())}")
        finally:
            killer.close()

    def classify_error(self, exc: Exception, *, timed_out: bool) -> ExecStatus:
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
        if code in _TIMEOUT:
            return ExecStatus.TIMEOUT
        if code in _SYNTAX:
            return ExecStatus.SYNTAX_ERROR
        if code in _FORBIDDEN:
            return ExecStatus.FORBIDDEN
        if timed_out and code in (2013, 2006):  # connection lost while being killed
            return ExecStatus.TIMEOUT
        return ExecStatus.RUNTIME_ERROR

    # -- introspection ---------------------------------------------------------------------
    def introspect(self, conn, db_id: str) -> list[Table]:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT TABLE_NAME, TABLE_COMMENT FROM information_schema.TABLES "
                "WHERE TABLE_SCHEMA = %s AND TABLE_TYPE IN ('BASE TABLE', 'VIEW') "
                "ORDER BY TABLE_NAME",
                (db_id,),
            )
            table_rows = cur.fetchall()
            cur.execute(
                "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_COMMENT "
                "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
                "ORDER BY TABLE_NAME, ORDINAL_POSITION",
                (db_id,),
            )
            col_rows = cur.fetchall()
            cur.execute(
                "SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, "
                "REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE "
                "WHERE TABLE_SCHEMA = %s AND (CONSTRAINT_NAME = 'PRIMARY' "
                "OR REFERENCED_TABLE_NAME IS NOT NULL) "
                "ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION",
                (db_id,),
            )
            key_rows = cur.fetchall()
        conn.rollback()
        tables = {
            name: Table(name=name, columns=[], comment=comment or None)
            for name, comment in table_rows
        }
        for tname, cname, ctype, nullable, comment in col_rows:
            if tname in tables:
                tables[tname].columns.append(
                    Column(
                        name=cname,
                        type=str(ctype).upper(),
                        nullable=nullable == "YES",
                        comment=comment or None,
                    )
                )
        fks: dict[tuple[str, str], ForeignKey] = {}
        for tname, cons, cname, ref_table, ref_col in key_rows:
            if tname not in tables:
                continue
            if cons == "PRIMARY":
                tables[tname].primary_key.append(cname)
                continue
            fk = fks.get((tname, cons))
            if fk is None:
                fk = fks[(tname, cons)] = ForeignKey(
                    columns=[], ref_table=ref_table, ref_columns=[]
                )
                tables[tname].foreign_keys.append(fk)
            fk.columns.append(cname)
            fk.ref_columns.append(ref_col)
        return list(tables.values())

    def column_samples_sql(self, table: str, column: str, scan: int) -> str:
        t = quote_ident(table, "mysql", always=True)
        c = quote_ident(column, "mysql", always=True)
        return f"SELECT {c} FROM {t} WHERE {c} IS NOT NULL LIMIT {int(scan)}"

    def table_rows_sql(self, table: str, n: int) -> str:
        return f"SELECT * FROM {quote_ident(table, 'mysql', always=True)} LIMIT {int(n)}"
