"""Throwaway MariaDB and PostgreSQL servers for tests.

Each server lives in a fresh temporary directory, listens on a random loopback port, and is
stopped and deleted by `stop()`. When the server binaries are missing the caller skips —
except under CI=true, where a missing server is a failure.

Accounts, as sqlsynth asks users to set them up:
- `user` (sqlsynth): read-only, created with the very statements sqlsynth prints when it
  refuses a privileged account; `config()` connects as it.
- `owner` (sqlsynth_owner): owns the test databases and loads their data
  (`connect_as_user`); on MariaDB it is also the privileged account (ALL PRIVILEGES ON *.*).
- `privileged` (PostgreSQL: sqlsynth_admin, a superuser; MariaDB: the owner):
  `config(privileged=True)`, to test the refusal and the opt-out.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

USER = "sqlsynth"
PASSWORD = "s3cret-pw"
OWNER = "sqlsynth_owner"
OWNER_PASSWORD = "0wner-pw"
ADMIN = "sqlsynth_admin"
ADMIN_PASSWORD = "adm1n-pw"
START_TIMEOUT = 60.0


class ServerUnavailable(RuntimeError):
    """The server binaries are missing or the server did not start."""


def skip_or_fail(reason: str) -> None:
    """Skip locally; fail under CI, which must really exercise the servers."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: server tests must run)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    kind: str  # "mysql" | "postgres"
    host: str
    port: int
    user: str
    password: str
    workdir: Path
    process: subprocess.Popen
    admin: dict = field(default_factory=dict)  # superuser connection arguments
    version: str = ""
    owner: tuple[str, str] = (OWNER, OWNER_PASSWORD)
    privileged: tuple[str, str] = (OWNER, OWNER_PASSWORD)
    files_dir: Path | None = None  # MariaDB's secure_file_priv: where FILE could write
    plain_sql_mode: str | None = None  # the global sql_mode before set_lexical_traps

    def config(self, *, privileged: bool = False, **extra: object) -> dict:
        user, password = self.privileged if privileged else (self.user, self.password)
        return {"host": self.host, "port": self.port, "user": user, "password": password, **extra}

    def data_dir(self) -> Path:
        return self.workdir / "data"

    def server_pids(self) -> list[int]:
        """The server's processes: mariadbd, or the postmaster and every backend."""
        if self.kind == "mysql":
            return [self.process.pid]
        pidfile = self.data_dir() / "postmaster.pid"
        main = int(pidfile.read_text().split()[0])
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == main:
                    children.append(int(entry.name))
        return [main, *children]

    def freeze(self) -> list[int]:
        """SIGSTOP the server (all its processes); returns what `thaw` must continue."""
        pids = self.server_pids()
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGSTOP)
        return pids

    def thaw(self, pids: list[int]) -> None:
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGCONT)

    def set_lexical_traps(self, on: bool) -> None:
        """Switch on (or off) the server settings that change how SQL text is read:
        MariaDB's global sql_mode NO_BACKSLASH_ESCAPES and ANSI_QUOTES, PostgreSQL's
        standard_conforming_strings = off for the sqlsynth accounts. New sessions see them."""
        if self.kind == "mysql":
            if on:
                if self.plain_sql_mode is None:
                    self.plain_sql_mode = self.admin_query("SELECT @@GLOBAL.sql_mode")[0][0]
                self.admin_execute(
                    "SET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode, "
                    "',NO_BACKSLASH_ESCAPES,ANSI_QUOTES,PIPES_AS_CONCAT,IGNORE_SPACE')"
                )
            elif self.plain_sql_mode is not None:
                self.admin_execute(f"SET GLOBAL sql_mode = '{self.plain_sql_mode}'")
            return
        for role in (self.user, self.privileged[0]):
            if on:
                self.admin_execute(f"ALTER ROLE {role} SET standard_conforming_strings = off")
                self.admin_execute(f"ALTER ROLE {role} SET backslash_quote = on")
            else:
                self.admin_execute(f"ALTER ROLE {role} RESET ALL")

    def admin_execute(self, sql: str) -> None:
        """Run one statement as the superuser (PostgreSQL: CREATE/DROP DATABASE)."""
        if self.kind == "mysql":
            import pymysql

            conn = pymysql.connect(**self.admin, autocommit=True)
            try:
                with conn.cursor() as cur:
                    cur.execute(sql)
            finally:
                conn.close()
            return
        import psycopg

        with psycopg.connect(**self.admin, autocommit=True) as conn:
            conn.execute(sql)

    def admin_query(self, sql: str, database: str | None = None) -> list[tuple]:
        """Rows of one statement run as the superuser."""
        if self.kind == "mysql":
            import pymysql

            args = {**self.admin, **({"database": database} if database else {})}
            conn = pymysql.connect(**args, autocommit=True)
            try:
                with conn.cursor() as cur:
                    cur.execute(sql)
                    return list(cur.fetchall())
            finally:
                conn.close()
        import psycopg

        args = {**self.admin, **({"dbname": database} if database else {})}
        with psycopg.connect(**args, autocommit=True) as conn:
            return conn.execute(sql).fetchall()

    def create_database(self, name: str) -> None:
        owner = f" OWNER {self.owner[0]}" if self.kind == "postgres" else ""
        self.admin_execute(f"CREATE DATABASE {name}{owner}")

    def connect_as_user(self, database: str):
        """A plain driver connection as the databases' owner (for loading data, not via
        sqlsynth, which connects as the read-only `user`)."""
        user, password = self.owner
        if self.kind == "mysql":
            import pymysql

            return pymysql.connect(
                host=self.host,
                port=self.port,
                user=user,
                password=password,
                database=database,
                autocommit=True,
            )
        import psycopg

        return psycopg.connect(
            host=self.host, port=self.port, user=user, password=password, dbname=database
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)


def _wait_for(check, what: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerUnavailable(f"{what} exited with {process.returncode}: {_tail(log)}")
        try:
            check()
            return
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
            last = exc
            time.sleep(0.2)
    raise ServerUnavailable(f"{what} did not become ready: {last}; {_tail(log)}")


def _tail(path: Path, n: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return "(no log)"


# -- MariaDB -------------------------------------------------------------------------------
def start_mariadb() -> Server:
    install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
    daemon = (
        shutil.which("mariadbd")
        or shutil.which("mysqld")
        or _first("/usr/sbin/mariadbd", "/usr/sbin/mysqld")
    )
    if not install or not daemon:
        raise ServerUnavailable(
            "MariaDB binaries (mariadb-install-db, mariadbd) not found; "
            "run scripts/install_servers.sh"
        )
    import pymysql

    work = Path(tempfile.mkdtemp(prefix="sqlsynth-mariadb-"))
    data, sock, log = work / "data", work / "mysqld.sock", work / "error.log"
    files = work / "files"
    files.mkdir()
    as_root = ["--user=root"] if os.geteuid() == 0 else []
    subprocess.run(
        [
            install,
            "--no-defaults",
            f"--datadir={data}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            *as_root,
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    proc = subprocess.Popen(
        [
            daemon,
            "--no-defaults",
            f"--datadir={data}",
            f"--socket={sock}",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--pid-file={work / 'mysqld.pid'}",
            f"--log-error={log}",
            "--skip-name-resolve",
            "--skip-log-bin",
            "--innodb-buffer-pool-size=32M",
            "--max-connections=200",
            f"--secure-file-priv={files}",
            *as_root,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    admin = {"unix_socket": str(sock), "user": "root", "password": ""}

    def ping() -> None:
        pymysql.connect(**admin, connect_timeout=2).close()

    try:
        _wait_for(ping, "mariadbd", proc, log)
        conn = pymysql.connect(**admin, autocommit=True)
        with conn.cursor() as cur:
            cur.execute(f"CREATE USER '{OWNER}'@'%' IDENTIFIED BY '{OWNER_PASSWORD}'")
            cur.execute(f"GRANT ALL PRIVILEGES ON *.* TO '{OWNER}'@'%'")
            for stmt in read_only_account_statements("mysql", USER, PASSWORD):
                cur.execute(stmt)
            cur.execute("SELECT VERSION()")
            version = cur.fetchone()[0]
        conn.close()
    except BaseException:
        proc.kill()
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Server("mysql", "127.0.0.1", port, USER, PASSWORD, work, proc, admin, version,
                  files_dir=files)


# -- PostgreSQL ----------------------------------------------------------------------------
def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def start_postgres() -> Server:
    initdb, postgres = _pg_bin("initdb"), _pg_bin("postgres")
    if not initdb or not postgres:
        raise ServerUnavailable(
            "PostgreSQL binaries (initdb, postgres) not found; run scripts/install_servers.sh"
        )
    import psycopg

    work = Path(tempfile.mkdtemp(prefix="sqlsynth-pg-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        shutil.chown(work, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data, log = work / "data", work / "postgres.log"
    subprocess.run(
        [
            *as_postgres,
            initdb,
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    log.touch()
    if as_postgres:
        shutil.chown(log, "postgres", "postgres")
    proc = subprocess.Popen(
        [
            *as_postgres,
            postgres,
            "-D",
            str(data),
            "-k",
            str(work),
            "-p",
            str(port),
            "-h",
            "127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "max_connections=200",
            "-c",
            "shared_buffers=32MB",
            "-c",
            f"log_directory={work}",
            "-c",
            "logging_collector=off",
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(log, "ab"),  # noqa: SIM115 - owned by the child
    )
    admin = {"host": str(work), "port": port, "user": "postgres", "dbname": "postgres"}

    def ping() -> None:
        psycopg.connect(**admin, connect_timeout=2).close()

    try:
        _wait_for(ping, "postgres", proc, log)
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {OWNER} LOGIN CREATEDB PASSWORD '{OWNER_PASSWORD}'")
            conn.execute(f"CREATE ROLE {ADMIN} LOGIN SUPERUSER PASSWORD '{ADMIN_PASSWORD}'")
            for stmt in read_only_account_statements("postgres", USER, PASSWORD):
                conn.execute(stmt)
            version = conn.execute("SELECT version()").fetchone()[0]
    except BaseException:
        proc.kill()
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Server("postgres", "127.0.0.1", port, USER, PASSWORD, work, proc, admin, version,
                  privileged=(ADMIN, ADMIN_PASSWORD))


def read_only_account_statements(kind: str, user: str, password: str) -> list[str]:
    """The statements sqlsynth prints for a read-only account, for every database (`*`)."""
    from sqlsynth.db import privileges

    if kind == "mysql":
        stmts = privileges.mysql_read_only_statements(["*"])
        stmts = [s.replace("`*`.*", "*.*") for s in stmts]
    else:
        stmts = [s.split("  --")[0] for s in privileges.postgres_read_only_statements([])
                 if not s.startswith("--")]
    return [
        s.replace(privileges.READ_ONLY_ACCOUNT, user)
        .replace(privileges.PASSWORD_PLACEHOLDER, password)
        .rstrip(";")
        for s in stmts
    ]


def _first(*paths: str) -> str | None:
    return next((p for p in paths if os.path.exists(p)), None)
