"""First wall against hostile SQL: accept exactly one read-only SELECT/WITH statement.

The engines add a second wall (read-only connections/transactions), so this check may be
strict without being perfect. When sqlglot cannot parse a statement we do not trust or reject
it on that basis alone: a token-level scan decides, and the engine reports the real syntax error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from sqlsynth.db.result import ExecStatus

# Functions that touch files, sessions, locks, sequences or server state. Sleeping is allowed:
# the per-query time limit handles it.
FORBIDDEN_FUNCTIONS = frozenset(
    {
        # SQLite
        "load_extension",
        "readfile",
        "writefile",
        "edit",
        "fts3_tokenizer",
        "zipfile",
        # MySQL / MariaDB
        "load_file",
        "get_lock",
        "release_lock",
        "release_all_locks",
        "is_free_lock",
        "master_pos_wait",
        "sys_exec",
        "sys_eval",
        "benchmark_write",
        # PostgreSQL
        "set_config",
        "pg_terminate_backend",
        "pg_cancel_backend",
        "pg_reload_conf",
        "pg_rotate_logfile",
        "pg_read_file",
        "pg_read_binary_file",
        "pg_ls_dir",
        "pg_stat_file",
        "lo_import",
        "lo_export",
        "lo_unlink",
        "lo_create",
        "lo_from_bytea",
        "lo_put",
        "lo_open",
        "dblink",
        "dblink_exec",
        "dblink_connect",
        "pg_advisory_lock",
        "pg_advisory_xact_lock",
        "pg_try_advisory_lock",
        "pg_advisory_lock_shared",
        "pg_notify",
        "nextval",
        "setval",
        "pg_switch_wal",
        "pg_promote",
        "pg_create_restore_point",
        "pg_logical_emit_message",
        "pg_import_system_collations",
        "txid_current",
        "pg_current_xact_id",
        "lo_creat",
        "lo_truncate",
        "lo_truncate64",
        "lowrite",
        "lo_write",
        "pg_file_write",
        "pg_file_rename",
        "pg_file_unlink",
        "pg_file_sync",
        "pg_log_backend_memory_contexts",
        "pg_stat_reset",
        "pg_sleep_until",
        # run a query given as a string, out of the guard's sight
        "query_to_xml",
        "query_to_xmlschema",
        "query_to_xml_and_xmlschema",
        "ts_stat",
        "ts_rewrite",
        # MySQL / MariaDB: replication waits and sequences
        "master_gtid_wait",
        "source_pos_wait",
        "wait_for_executed_gtid_set",
        "wait_until_sql_thread_after_gtids",
        "lastval",
        "currval",
    }
)

# Whole families of server-administration functions, matched by name prefix: replication
# slots and origins, backups, WAL control, file access, statistics resets, advisory locks and
# large objects all act outside the read-only transaction (or survive its rollback).
FORBIDDEN_FUNCTION_PREFIXES = (
    "pg_create_",
    "pg_drop_",
    "pg_replication_",
    "pg_copy_",
    "pg_backup_",
    "pg_start_backup",
    "pg_stop_backup",
    "pg_wal_",
    "pg_xlog_",
    "pg_switch_",
    "pg_file_",
    "pg_ls_",
    "pg_read_",
    "pg_stat_reset",
    "pg_stat_statements_reset",
    "pg_advisory",
    "pg_try_advisory",
    "pg_logical_",
    "pg_log_",
    "pg_promote",
    "pg_sequence_",
    "lo_",
    "dblink",
    "binary_upgrade_",
)


def is_forbidden_function(name: str) -> bool:
    """Whether a function (any case, schema-qualified or not) may never be called."""
    base = name.lower().rsplit(".", 1)[-1].strip('"`')
    return base in FORBIDDEN_FUNCTIONS or base.startswith(FORBIDDEN_FUNCTION_PREFIXES)


# Statement keywords that never belong in a read-only query (checked only when sqlglot cannot
# parse the statement). A keyword directly followed by "(" is a function call, e.g. REPLACE(...).
FORBIDDEN_KEYWORDS = frozenset(
    {
        "INSERT",
        "UPDATE",
        "DELETE",
        "REPLACE",
        "MERGE",
        "UPSERT",
        "CREATE",
        "DROP",
        "ALTER",
        "TRUNCATE",
        "RENAME",
        "ATTACH",
        "DETACH",
        "PRAGMA",
        "SET",
        "RESET",
        "GRANT",
        "REVOKE",
        "COPY",
        "CALL",
        "DO",
        "HANDLER",
        "LOAD",
        "LOCK",
        "UNLOCK",
        "OUTFILE",
        "DUMPFILE",
        "INTO",
        "VACUUM",
        "REINDEX",
        "ANALYZE",
        "OPTIMIZE",
        "REPAIR",
        "COMMIT",
        "ROLLBACK",
        "BEGIN",
        "START",
        "SAVEPOINT",
        "RELEASE",
        "EXECUTE",
        "EXEC",
        "PREPARE",
        "DEALLOCATE",
        "NOTIFY",
        "LISTEN",
        "DISCARD",
        "USE",
        "SHARE",
        "FLUSH",
        "KILL",
        "SHUTDOWN",
        "INSTALL",
        "UNINSTALL",
        "CLUSTER",
        "REFRESH",
        "SECURITY",
        "IMPORT",
        "EXPORT",
    }
)

_FORBIDDEN_NODE_NAMES = (
    "Insert",
    "Update",
    "Delete",
    "Merge",
    "Create",
    "Drop",
    "Alter",
    "AlterTable",
    "Command",
    "Pragma",
    "Set",
    "Attach",
    "Detach",
    "Into",
    "Lock",
    "Copy",
    "LoadData",
    "Transaction",
    "Commit",
    "Rollback",
    "Use",
    "Grant",
    "Revoke",
    "TruncateTable",
    "Analyze",
    "Cache",
    "Uncache",
    "Refresh",
    "Kill",
    "Summarize",
    "Export",
    "NextValueFor",
)
FORBIDDEN_NODES = tuple(t for t in (getattr(exp, n, None) for n in _FORBIDDEN_NODE_NAMES) if t)

_QUERY_ROOTS = tuple(
    t
    for t in (
        getattr(exp, n, None)
        for n in ("Select", "Union", "Intersect", "Except", "Subquery", "SetOperation")
    )
    if t
)

# MySQL/MariaDB run the body of /*! ... */ and /*M! ... */ comments, hiding SQL from parsers;
# MySQL's optimizer hints /*+ ... */ can lift the statement time limit (MAX_EXECUTION_TIME).
_EXECUTABLE_COMMENT_MARKERS = ("/*!", "/*M!", "/*m!", "/*+")

_SQLGLOT_LOGGER = logging.getLogger("sqlglot")


@dataclass(frozen=True)
class GuardDecision:
    """Verdict on one statement; `sql` is the statement without trailing semicolons/comments."""

    status: ExecStatus | None
    sql: str
    reason: str | None = None

    @property
    def allowed(self) -> bool:
        return self.status is None


def _deny(sql: str, reason: str, status: ExecStatus = ExecStatus.FORBIDDEN) -> GuardDecision:
    return GuardDecision(status=status, sql=sql, reason=reason)


def check_read_only(sql: str, dialect: str) -> GuardDecision:
    """Decide whether `sql` is a single read-only query safe to hand to the engine."""
    if not isinstance(sql, str) or not sql.strip():
        return _deny("", "empty statement", ExecStatus.SYNTAX_ERROR)
    if dialect == "mysql" and any(m in sql for m in _EXECUTABLE_COMMENT_MARKERS):
        return _deny(sql, "MySQL executable comments and hints (/*! */, /*+ */) are not allowed")
    try:
        tokens = Dialect.get_or_raise(dialect).tokenize(sql)
    except (TokenError, ValueError) as exc:
        return _deny(sql, f"cannot tokenize statement: {exc}", ExecStatus.SYNTAX_ERROR)
    significant = [t for t in tokens if t.token_type is not TokenType.SEMICOLON]
    if not significant:
        return _deny("", "empty statement", ExecStatus.SYNTAX_ERROR)
    # From the first to the last real token: drops stray semicolons and trailing comments,
    # which would break wrappers such as EXPLAIN or DECLARE ... CURSOR FOR.
    cleaned = sql[significant[0].start : significant[-1].end + 1]

    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        is_call = nxt is not None and nxt.token_type is TokenType.L_PAREN
        if is_call and is_forbidden_function(tok.text):
            return _deny(cleaned, f"function {tok.text}() is not allowed")
        # MariaDB sequences: NEXT VALUE FOR s / PREVIOUS VALUE FOR s advance or read state.
        words = tuple(t.text.upper() for t in tokens[i : i + 3])
        if words in (("NEXT", "VALUE", "FOR"), ("PREVIOUS", "VALUE", "FOR")):
            return _deny(cleaned, f"{' '.join(words)} (sequences) is not allowed")
    first_sep = next((i for i, t in enumerate(tokens) if t.token_type is TokenType.SEMICOLON), None)
    if (
        first_sep is not None
        and any(t.token_type is not TokenType.SEMICOLON for t in tokens[first_sep + 1 :])
        and any(t.token_type is not TokenType.SEMICOLON for t in tokens[:first_sep])
    ):
        return _deny(cleaned, "only one statement is allowed")

    level = _SQLGLOT_LOGGER.level
    _SQLGLOT_LOGGER.setLevel(logging.ERROR)  # silence "falling back to Command" warnings
    try:
        statements = sqlglot.parse(cleaned, read=dialect)
    except (ParseError, TokenError, ValueError):
        return _token_scan(tokens, cleaned)
    finally:
        _SQLGLOT_LOGGER.setLevel(level)
    statements = [s for s in statements if s is not None and not isinstance(s, exp.Semicolon)]
    if len(statements) != 1:
        return _deny(cleaned, "only one statement is allowed")
    root = statements[0]
    if not isinstance(root, _QUERY_ROOTS):
        return _deny(cleaned, f"only SELECT/WITH queries are allowed, got {root.key.upper()}")
    for node in root.walk():
        if isinstance(node, FORBIDDEN_NODES):
            what = "SELECT ... FOR UPDATE/SHARE" if isinstance(node, exp.Lock) else node.key.upper()
            return _deny(cleaned, f"{what} is not allowed in a read-only query")
        if isinstance(node, exp.Func) and is_forbidden_function(_function_name(node)):
            return _deny(cleaned, f"function {node.name}() is not allowed")
    return GuardDecision(status=None, sql=cleaned)


def _function_name(node: exp.Func) -> str:
    """The SQL name of a function node, whether sqlglot knows the function or not."""
    if isinstance(node, exp.Anonymous):
        return node.name
    return node.sql_name()


def _token_scan(tokens: list, cleaned: str) -> GuardDecision:
    """Conservative check for statements sqlglot cannot parse; the engine reports syntax."""
    significant = [t for t in tokens if t.token_type is not TokenType.SEMICOLON]
    first = significant[0]
    if first.token_type is TokenType.VAR and first.text.upper() not in FORBIDDEN_KEYWORDS:
        return _deny(cleaned, f"unknown statement keyword {first.text!r}", ExecStatus.SYNTAX_ERROR)
    if first.token_type not in (TokenType.SELECT, TokenType.WITH, TokenType.L_PAREN):
        return _deny(cleaned, f"only SELECT/WITH queries are allowed, got {first.text.upper()}")
    for i, tok in enumerate(significant):
        if tok.token_type in (TokenType.STRING, TokenType.IDENTIFIER):
            continue
        nxt = significant[i + 1] if i + 1 < len(significant) else None
        if nxt is not None and nxt.token_type is TokenType.L_PAREN:
            continue
        if tok.text.upper() in FORBIDDEN_KEYWORDS:
            return _deny(cleaned, f"keyword {tok.text.upper()} is not allowed in a read-only query")
    return GuardDecision(status=None, sql=cleaned)
