"""What kind of statement a piece of SQL is, decided on the parse tree rather than by regex,
so that ``WITH ... DELETE`` or a comment-prefixed ``DROP`` are not mistaken for reads."""

from __future__ import annotations

from sqlglot import exp

from sqlsynth.sql.parse import SQLParseError, parse_single

_KINDS: tuple[tuple[type, str], ...] = (
    (exp.Insert, "insert"), (exp.Update, "update"), (exp.Delete, "delete"),
    (exp.Merge, "write"), (exp.Create, "ddl"), (exp.Drop, "ddl"), (exp.Alter, "ddl"),
    (exp.TruncateTable, "ddl"), (exp.Command, "command"), (exp.Pragma, "command"),
    (exp.Transaction, "command"), (exp.Commit, "command"), (exp.Rollback, "command"),
    (exp.Use, "command"), (exp.Set, "command"),
    # SELECT ... INTO writes a table, a file or variables; FOR UPDATE/SHARE takes locks
    (exp.Into, "write"), (exp.Lock, "command"),
    *((getattr(exp, name), "command") for name in ("Attach", "Detach") if hasattr(exp, name)),
)


def classify_statement(sql: str, dialect: str = "sqlite") -> str:
    """One of ``select`` (a read-only query: SELECT, set operations, VALUES, WITH ... SELECT),
    ``insert``, ``update``, ``delete``, ``write`` (other data changes), ``ddl``, ``command``
    (PRAGMA, SET, transactions, locking reads, engine-specific commands), ``other``, or
    ``invalid`` (empty, unparseable, more than one statement, or beyond the parse limits of
    `sqlsynth.sql.parse.check_size`). Never raises."""
    try:
        tree = parse_single(sql, dialect)
    except SQLParseError:
        return "invalid"
    for kind, name in _KINDS:
        if isinstance(tree, kind) or tree.find(kind) is not None:
            return name
    if isinstance(tree, (exp.Query, exp.Values, exp.Subquery)):
        return "select"
    return "other"
