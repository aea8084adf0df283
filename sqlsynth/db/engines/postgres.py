"""PostgreSQL through psycopg 3 (imported lazily).

db_id rule: each connectable non-template database except `postgres` (unless named in the
config's `database` / `databases`) gives db_id = its name, covering its `public` schema; each
other user schema holding tables gives db_id `database.schema`. When a database has tables
only outside `public` and in a single schema, that schema is still exposed as
`database.schema` (no guessing). The config's `database` / `databases` may name whole
databases or single `database.schema` db_ids.

Read-only wall: `default_transaction_read_only=on` for the session and every query inside a
`READ ONLY` transaction that is rolled back. Time limit: `SET LOCAL statement_timeout`, with
a client-side cancel as backup. Rows stream one at a time (single-row mode, extended protocol)
so the row and size caps really bound memory and only one statement can ever run.

Lexical pinning: `standard_conforming_strings=on` (so `'\\'` means what the guard read),
`default_transaction_read_only=on` and the db_id's `search_path` are startup options of the
connection, so they are the session's defaults and survive the `DISCARD ALL` run after every
statement (advisory locks, temporary tables, prepared statements, settings, LISTEN). The
account is judged at connect (privileges.py).
"""

from __future__ import annotations

import math

from sqlsynth.db import pg_reach, privileges
from sqlsynth.db.engines.base import Engine, RowBudget, configured_databases, end_statement
from sqlsynth.db.engines.metering import meter_postgres_connection
from sqlsynth.db.result import ExecStatus
from sqlsynth.db.schema import Column, ForeignKey, Table, quote_ident
from sqlsynth.errors import DatabaseUnavailableError

MAINTENANCE_DB = "postgres"
_SYSTEM_SCHEMA_FILTER = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'"
)


class PostgresEngine(Engine):
    db_type = "postgres"
    dialect = "postgres"
    engine_name = "PostgreSQL"

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        self.only = configured_databases(config)
        self._targets: dict[str, tuple[str, str]] | None = None  # db_id -> (database, schema)
        self._version = ""
        self._account_report = privileges.AccountReport()
        self._facts: dict[str, tuple[tuple, pg_reach.CatalogFacts]] = {}  # database -> facts

    def _options(self, schema: str | None) -> str:
        """libpq startup options: the pinned settings (see the module docstring)."""
        opts = ["default_transaction_read_only=on", "standard_conforming_strings=on",
                "escape_string_warning=off", "backslash_quote=safe_encoding",
                "client_encoding=UTF8"]
        if schema is not None:
            path = quote_ident(schema, "postgres") if schema != "public" else "public"
            opts.append(f"search_path={path}")
        if self._major() >= 14:  # notice a vanished client (a killed worker) within 1 s
            opts.append("client_connection_check_interval=1000")
        return " ".join("-c " + _escape_option(o) for o in opts)

    def _major(self) -> int:
        import re

        m = re.search(r"PostgreSQL (\d+)", self._version or "")
        return int(m.group(1)) if m else 0

    def _raw_connect(self, database: str, *, read_only: bool = True, schema: str | None = None):
        import psycopg

        c = self.config
        options = self._options(schema) if read_only else ""
        host = c.get("host", "localhost")
        port = int(c.get("port") or 5432)
        user = c.get("user") or c.get("username") or "postgres"
        try:
            conn = psycopg.connect(
                host=host,
                port=port,
                user=user,
                password=c.get("password") or None,
                dbname=database,
                connect_timeout=int(c.get("connect_timeout", 10)),
                options=options,
                autocommit=False,
                prepare_threshold=None,  # DISCARD ALL after each statement drops prepared ones
            )
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailableError(self.engine_name, host, port, user, database,
                                           exc) from exc
        conn.read_only = True
        conn._sqlsynth_meter = meter_postgres_connection(conn)
        return conn

    def server_version(self) -> str:
        if not self._version:
            conn = self._raw_connect(self._maintenance_db())
            try:
                self._version = str(conn.execute("SELECT version()").fetchone()[0])
            finally:
                conn.close()
        return self._version

    def _maintenance_db(self) -> str:
        return self.only[0].partition(".")[0] if self.only else MAINTENANCE_DB

    def _wanted_database(self, name: str) -> bool:
        """Whether the config names this database, or one of its schemas as `name.schema`."""
        assert self.only is not None
        return name in self.only or any(w.startswith(name + ".") for w in self.only)

    def check_account(self, conn) -> None:
        """Refuse a superuser or a member of the server-file roles (see privileges.py)."""
        if self.account_checked:
            return
        superuser, createrole = conn.execute(
            "SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        roles = [
            r[0]
            for r in conn.execute(
                "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s) "
                "AND pg_has_role(current_user, oid, 'MEMBER') ORDER BY 1",
                (list(privileges.PG_SERVER_ROLES + privileges.PG_SIGNAL_ROLES),),
            ).fetchall()
        ]
        conn.rollback()
        self._account_report = privileges.judge_postgres_role(
            superuser=bool(superuser), server_roles=roles, writable=[], createrole=createrole
        )
        self._enforce(self._account_report)
        self.account_checked = True

    @staticmethod
    def _definers(conn) -> list[tuple[str, str]]:
        """SECURITY DEFINER functions this account may EXECUTE that another role owns."""
        rows = conn.execute(
            "SELECT p.oid::regprocedure::text, pg_get_userbyid(p.proowner) "
            "FROM pg_catalog.pg_proc p WHERE p.prosecdef AND p.oid >= 16384 "
            "AND p.proowner <> (SELECT oid FROM pg_roles WHERE rolname = current_user) "
            "AND has_function_privilege(p.oid, 'EXECUTE') ORDER BY 1"
        ).fetchall()
        conn.rollback()
        return [(str(f), str(o)) for f, o in rows]

    def _enforce(self, report, *, definer: bool = False) -> None:
        c = self.config
        privileges.enforce(
            report,
            engine=self.engine_name,
            where=f"{c.get('host', 'localhost')}:{c.get('port') or 5432}",
            user=str(c.get("user") or c.get("username") or "postgres"),
            statements=(privileges.postgres_definer_statements() if definer else [])
            + privileges.postgres_read_only_statements(
                sorted({w.partition(".")[0] for w in self.only or []})
            ),
            allow_privileged=self.allow_privileged,
        )

    @staticmethod
    def _writable(conn) -> bool:
        """Whether the account may write anything in this database (for the warning)."""
        return bool(
            conn.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') "
                f"AND {_SYSTEM_SCHEMA_FILTER} AND (has_table_privilege(c.oid, 'INSERT') "
                "OR has_table_privilege(c.oid, 'UPDATE') OR has_table_privilege(c.oid, 'DELETE') "
                "OR has_table_privilege(c.oid, 'TRUNCATE'))) OR EXISTS (SELECT 1 FROM "
                f"pg_namespace n WHERE {_SYSTEM_SCHEMA_FILTER} "
                "AND has_schema_privilege(n.oid, 'CREATE'))"
            ).fetchone()[0]
        )

    def _discover(self) -> dict[str, tuple[str, str]]:
        conn = self._raw_connect(self._maintenance_db())
        try:
            self._version = str(conn.execute("SELECT version()").fetchone()[0])
            first_check = not self.account_checked
            self.check_account(conn)
            rows = conn.execute(
                "SELECT datname FROM pg_database WHERE NOT datistemplate AND datallowconn "
                "AND has_database_privilege(datname, 'CONNECT') ORDER BY datname"
            ).fetchall()
            self._version = str(conn.execute("SELECT version()").fetchone()[0])
        finally:
            conn.close()
        names = [r[0] for r in rows]
        if self.only is not None:
            names = [n for n in names if self._wanted_database(n)]
        else:
            names = [n for n in names if n != MAINTENANCE_DB]
        targets: dict[str, tuple[str, str]] = {}
        writable: list[str] = []
        definer: list[str] = []
        for name in names:
            conn = self._raw_connect(name)
            try:
                if first_check and self._writable(conn):
                    writable.append(f"writes in database {name!r}")
                if first_check:
                    definer.extend(f"EXECUTE on SECURITY DEFINER function {f} of {owner} "
                                   f"(database {name!r})" for f, owner in self._definers(conn))
                schemas = [
                    r[0]
                    for r in conn.execute(
                        "SELECT DISTINCT n.nspname FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        f"WHERE c.relkind IN ('r', 'p') AND {_SYSTEM_SCHEMA_FILTER} "
                        "ORDER BY 1"
                    ).fetchall()
                ]
            finally:
                conn.close()
            if "public" in schemas or not schemas:
                targets[name] = (name, "public")
            for schema in schemas:
                if schema != "public":
                    targets[f"{name}.{schema}"] = (name, schema)
        if self.only is not None:  # a named database keeps all its schemas
            targets = {k: v for k, v in targets.items() if k in self.only or v[0] in self.only}
        if definer:  # runs with another role's rights: the account reaches beyond itself
            self._enforce(privileges.AccountReport(dangerous=definer[:8] + (
                [f"... {len(definer) - 8} more"] if len(definer) > 8 else [])),
                definer=True)
        if writable and not self._account_report.dangerous:  # dangerous: already warned
            self._enforce(privileges.AccountReport(writes=writable))
        return targets

    def list_databases(self) -> list[str]:
        if self._targets is None:
            self._targets = self._discover()
        return sorted(self._targets)

    def connect(self, db_id: str):
        if self._targets is None:
            self.list_databases()
        database, schema = self._targets[db_id]
        conn = self._raw_connect(database, schema=schema)
        conn._sqlsynth_schema = schema
        return conn

    def vet(self, conn, sql: str) -> str | None:
        """Refuse what the statement would reach beyond the built-ins (see pg_reach.py); the
        catalog facts are read again only when the database's catalog stamp moved."""
        database = conn.info.dbname
        try:
            stamp = tuple(conn.execute(pg_reach.STAMP_SQL).fetchone())
            cached = self._facts.get(database)
            if cached is None or cached[0] != stamp:
                cached = (stamp, pg_reach.load_facts(conn))
                self._facts[database] = cached
        finally:
            conn.rollback()
        return pg_reach.refusal(sql, cached[1], self.allowed_functions)

    def reset(self, conn) -> bool:
        """DISCARD ALL: back to the startup settings, no locks, temporary or prepared objects."""
        try:
            conn.rollback()
            conn.autocommit = True
            try:
                conn.execute("DISCARD ALL")
            finally:
                conn.autocommit = False
        except Exception:  # noqa: BLE001 - a connection that cannot be reset is dropped
            return False
        return not conn.closed

    def backend_id(self, conn) -> int | None:
        try:
            return int(conn.info.backend_pid)
        except Exception:  # noqa: BLE001
            return None

    def cancel_backend(self, backend_id: int) -> None:
        import psycopg

        c = self.config
        with psycopg.connect(
            host=c.get("host", "localhost"), port=int(c.get("port") or 5432),
            user=c.get("user") or c.get("username") or "postgres",
            password=c.get("password") or None, dbname=self._maintenance_db(),
            connect_timeout=2, autocommit=True,
        ) as conn:
            pid = int(backend_id)
            ended = end_statement(
                lambda sql: conn.execute(sql, (pid,)),
                lambda: conn.execute(
                    "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s "
                    "AND state = 'active')", (pid,)
                ).fetchone()[0],
                ["SELECT pg_cancel_backend(%s)", "SELECT pg_terminate_backend(%s)"],
            )
        self.unended += 0 if ended else 1

    def _run(self, conn, sql, limits, deadline, explain):
        ms = max(1, math.ceil(limits.timeout * 1000)) if self.engine_side_timeout else 0
        conn.execute(f"SET LOCAL statement_timeout = {ms}")
        # stream(): the extended protocol (one statement only, even for EXPLAIN) and
        # single-row mode, so memory holds one row however large the result; leaving the
        # stream early cancels the rest on the server.
        cur = conn.cursor()
        meter = getattr(conn, "_sqlsynth_meter", None)
        if meter is not None:
            meter.start(limits.max_bytes)
        try:
            rows = cur.stream(f"EXPLAIN {sql}" if explain else sql)
            budget = RowBudget(limits, deadline)
            columns: tuple[str, ...] = ()
            try:
                for row in rows:
                    if not columns:
                        columns = tuple(d.name for d in cur.description or ())
                    if not budget.add((row,)):
                        break
            finally:
                rows.close()
            if not columns:
                columns = tuple(d.name for d in cur.description or ())
        finally:
            if meter is not None:
                meter.start(None)
            cur.close()
        conn.rollback()
        return columns, budget

    def interrupt(self, conn) -> None:
        # cancel_safe (psycopg 3.2+) waits without holding the GIL, unlike cancel()
        cancel = getattr(conn, "cancel_safe", None)
        if cancel is not None:
            cancel(timeout=2.0)
        else:
            conn.cancel()

    def classify_error(self, exc: Exception, *, timed_out: bool) -> ExecStatus:
        state = getattr(exc, "sqlstate", None) or ""
        if state == "57014" or (timed_out and state.startswith("57")):
            return ExecStatus.TIMEOUT
        if state == "42601":
            return ExecStatus.SYNTAX_ERROR
        if state in ("25006", "42501"):
            return ExecStatus.FORBIDDEN
        return ExecStatus.RUNTIME_ERROR

    # -- introspection ---------------------------------------------------------------------
    def introspect(self, conn, db_id: str) -> list[Table]:
        schema = conn._sqlsynth_schema
        rels = conn.execute(
            "SELECT c.oid, c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition "
            "ORDER BY c.relname",
            (schema,),
        ).fetchall()
        tables: list[Table] = []
        by_oid: dict[int, Table] = {}
        for oid, name, comment in rels:
            cols = conn.execute(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, "
                "col_description(a.attrelid, a.attnum) FROM pg_attribute a "
                "WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped "
                "ORDER BY a.attnum",
                (oid,),
            ).fetchall()
            table = Table(
                name=name,
                columns=[
                    Column(name=n, type=t.upper(), nullable=bool(nl), comment=cm)
                    for n, t, nl, cm in cols
                ],
                comment=comment,
            )
            tables.append(table)
            by_oid[oid] = table
        cons = conn.execute(
            "SELECT con.contype, con.conrelid, ft.relname, "
            "ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i) "
            "      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n "
            "      ORDER BY k.i), "
            "ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i) "
            "      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n "
            "      ORDER BY k.i) "
            "FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_class ft ON ft.oid = con.confrelid "
            "WHERE n.nspname = %s AND con.contype IN ('p', 'f') ORDER BY con.conname",
            (schema,),
        ).fetchall()
        conn.rollback()
        for kind, relid, ref_table, cols, ref_cols in cons:
            table = by_oid.get(relid)
            if table is None:
                continue
            if kind == "p":
                table.primary_key = list(cols)
            else:
                table.foreign_keys.append(
                    ForeignKey(
                        columns=list(cols), ref_table=ref_table, ref_columns=list(ref_cols or [])
                    )
                )
        return tables

    def column_samples_sql(self, table: str, column: str, scan: int) -> str:
        t = quote_ident(table, "postgres", always=True)
        c = quote_ident(column, "postgres", always=True)
        return f"SELECT {c} FROM {t} WHERE {c} IS NOT NULL LIMIT {int(scan)}"

    def table_rows_sql(self, table: str, n: int) -> str:
        return f"SELECT * FROM {quote_ident(table, 'postgres', always=True)} LIMIT {int(n)}"


def _escape_option(option: str) -> str:
    """Escape a `name=value` for libpq's options string (spaces and backslashes)."""
    return option.replace("\\", "\\\\").replace(" ", "\\ ")
