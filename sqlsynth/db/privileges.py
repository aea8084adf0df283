"""Least privilege, checked at connect: which accounts may run model-written SQL.

An account that can reach outside the database (write or read server files, run programs,
change server settings, manage users) is refused unless the user opts out explicitly; an
account that can merely write to the databases gets a one-line warning, since the read-only
transaction and the statement guard still stand between it and the data. The refusal message
prints the statements that create a read-only account, with a placeholder instead of a password.

Engines gather the facts (grant lines, role memberships); this module only judges them, so the
rules live in one place and are tested without a server.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlsynth.errors import PrivilegedAccountError

log = logging.getLogger("sqlsynth.db")

OPT_OUT = (
    "to run as this account anyway, pass --allow-privileged-account "
    "(config: allow_privileged_account = true; DatabaseManager(allow_privileged_account=True))"
)
READ_ONLY_ACCOUNT = "sqlsynth_ro"
PASSWORD_PLACEHOLDER = "<choose a password>"

# MySQL/MariaDB privileges that only read, or write inside the databases (a warning); every
# other global privilege (FILE, SUPER, SHUTDOWN, RELOAD, CREATE USER, GRANT OPTION, REPLICATION
# ..., every dynamic *ADMIN privilege, ALL PRIVILEGES) reaches outside and is refused.
MYSQL_READ_PRIVILEGES = frozenset(
    {"SELECT", "SHOW VIEW", "SHOW DATABASES", "USAGE", "PROCESS", "SHOW CREATE ROUTINE",
     "SHOW_ROUTINE"}
)
MYSQL_WRITE_PRIVILEGES = frozenset(
    {
        "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "INDEX", "REFERENCES",
        "CREATE TEMPORARY TABLES", "LOCK TABLES", "CREATE VIEW", "CREATE ROUTINE",
        "ALTER ROUTINE", "EVENT", "TRIGGER", "DELETE HISTORY", "EXECUTE",
    }
)
PG_SERVER_ROLES = ("pg_write_server_files", "pg_read_server_files", "pg_execute_server_program")
# signal (cancel, terminate) backends of every non-superuser role, not only the account's own
PG_SIGNAL_ROLES = ("pg_signal_backend",)

_GRANT_ON = re.compile(r"^\s*GRANT\s+(?P<privs>.+?)\s+ON\s+(?P<target>.+?)\s+TO\s", re.IGNORECASE | re.DOTALL)


@dataclass
class AccountReport:
    """What an account may do: reasons to refuse it, and reasons to warn about it."""

    dangerous: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)


def _split_privileges(text: str) -> list[str]:
    """`SELECT (a, b), INSERT, FILE` -> ["SELECT", "INSERT", "FILE"] (column lists dropped)."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append("".join(cur))
            cur = []
            continue
        if depth == 0 and ch not in "()":
            cur.append(ch)
    out.append("".join(cur))
    return [" ".join(p.split()).upper() for p in out if p.strip()]


def judge_mysql_grants(lines: Iterable[str]) -> AccountReport:
    """Judge `SHOW GRANTS` lines (of the account and of its roles)."""
    report = AccountReport()
    for line in lines:
        match = _GRANT_ON.match(line)
        if match is None:
            continue  # `GRANT role TO user`: the role's own grants are judged separately
        target = match.group("target").replace("`", "").strip()
        is_global = target in ("*.*", "*")
        privs = _split_privileges(match.group("privs"))
        if re.search(r"\bWITH\b.*\bGRANT\s+OPTION\b", line[match.end():], re.IGNORECASE):
            privs.append("GRANT OPTION")
        for priv in privs:
            if priv == "ALL":
                priv = "ALL PRIVILEGES"
            if priv in MYSQL_READ_PRIVILEGES:
                continue
            if is_global and priv not in MYSQL_WRITE_PRIVILEGES:
                report.dangerous.append(f"{priv} ON *.*")
            elif priv not in MYSQL_READ_PRIVILEGES:
                report.writes.append(f"{priv} ON {target}")
    report.dangerous = list(dict.fromkeys(report.dangerous))
    report.writes = list(dict.fromkeys(report.writes))
    return report


def judge_postgres_role(
    *, superuser: bool, server_roles: Sequence[str], writable: Sequence[str], createrole: bool
) -> AccountReport:
    report = AccountReport()
    if superuser:
        report.dangerous.append("superuser (reads/writes server files, runs programs)")
    for role in server_roles:
        if role in PG_SIGNAL_ROLES:
            report.dangerous.append(f"member of {role} (terminates other roles' sessions)")
        else:
            report.dangerous.append(f"member of {role}")
    if createrole:
        report.writes.append("CREATEROLE")
    report.writes.extend(writable)
    return report


def mysql_read_only_statements(databases: Sequence[str]) -> list[str]:
    user = f"'{READ_ONLY_ACCOUNT}'@'%'"
    out = [f"CREATE USER {user} IDENTIFIED BY '{PASSWORD_PLACEHOLDER}';"]
    for db in databases or ["<database>"]:
        quoted = "`" + db.replace("`", "``") + "`"
        out.append(f"GRANT SELECT, SHOW VIEW ON {quoted}.* TO {user};")
    return out


def postgres_read_only_statements(databases: Sequence[str]) -> list[str]:
    role = READ_ONLY_ACCOUNT
    out = [f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD_PLACEHOLDER}';"]
    out.append(f"GRANT pg_read_all_data TO {role};  -- PostgreSQL 14+; older servers:")
    for db in databases or ["<database>"]:
        name = '"' + db.replace('"', '""') + '"'
        out.append(f"--   GRANT CONNECT ON DATABASE {name} TO {role};")
    out.append(f"--   (in each database) GRANT USAGE ON SCHEMA public TO {role};")
    out.append(f"--   GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role};")
    return out


def postgres_definer_statements() -> list[str]:
    """What takes SECURITY DEFINER functions out of the account's reach."""
    return [
        "-- (in each database) for each SECURITY DEFINER function listed above:",
        f"--   REVOKE EXECUTE ON FUNCTION <function> FROM PUBLIC, {READ_ONLY_ACCOUNT};",
        "--   or ALTER FUNCTION <function> SECURITY INVOKER;",
        ("-- and run sqlsynth as an account that is used by nothing else (a role may end its "
        "own other sessions with pg_terminate_backend):"),
    ]


def mysql_definer_statements() -> list[str]:
    """What takes DEFINER routines and views out of the account's reach."""
    return [
        "-- for each routine or view listed above:",
        f"--   REVOKE EXECUTE ON FUNCTION <db>.<function> FROM {READ_ONLY_ACCOUNT};",
        "--   or recreate it with SQL SECURITY INVOKER;",
    ]


def enforce(
    report: AccountReport,
    *,
    engine: str,
    where: str,
    user: str,
    statements: Sequence[str],
    allow_privileged: bool,
) -> None:
    """Raise `PrivilegedAccountError` for a dangerous account (unless allowed); warn otherwise."""
    who = f"{engine} account {user!r} at {where}"
    if report.dangerous:
        why = ", ".join(report.dangerous)
        if allow_privileged:
            log.warning("%s holds %s; running model-written SQL as it because "
                        "allow_privileged_account is set", who, why)
        else:
            body = "\n".join("  " + s for s in statements)
            raise PrivilegedAccountError(
                f"refusing to run model-written SQL as {who}: it holds {why}, which reach "
                f"outside the database. Connect with a read-only account instead, e.g. "
                f"(as an administrator):\n{body}\n{OPT_OUT}."
            )
    if report.writes:
        shown = ", ".join(report.writes[:4]) + (" ..." if len(report.writes) > 4 else "")
        log.warning("%s can write to the databases (%s); read-only transactions and the "
                    "statement guard still apply, but a read-only account is safer", who, shown)
