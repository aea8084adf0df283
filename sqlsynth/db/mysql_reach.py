"""MySQL/MariaDB: refuse a statement that would reach a stored routine the guard cannot see.

A call the server does not know as a native built-in *on this version* resolves to a stored
function of the current database (REGEXP_LIKE and IS_UUID are not native on MariaDB 10.11),
and a view runs its definition, with its DEFINER's rights when SQL SECURITY DEFINER. So
before a statement runs (and before EXPLAIN), the worker reads `information_schema.ROUTINES`
and `VIEWS` of its database and refuses:

* a call whose name is a stored function of the current database (unless in
  `allowed_functions`): the server may pick it, and a built-in's name is no proof;
* a view whose definition calls any routine or reads a view that does (recursively), or whose
  definition the account may not read;
* on MariaDB, REGEXP_REPLACE / REGEXP_SUBSTR / REGEXP_INSTR: their cost grows quadratically
  with the input and the server does not interrupt them (`max_statement_time` and KILL are
  ignored until they return), so no deadline could hold.

Facts are cached per database and stamp (routine and view counts, newest LAST_ALTERED, a
checksum of the view definitions): one small query per statement.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.tokens import TokenType

# the server keeps running these after a timeout or KILL QUERY (MariaDB's PCRE wrappers)
MARIADB_UNINTERRUPTIBLE = frozenset({"regexp_replace", "regexp_substr", "regexp_instr"})

STAMP_SQL = (
    "SELECT (SELECT CONCAT(COUNT(*), ':', COALESCE(MAX(LAST_ALTERED), '')) "
    "FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()), "
    "(SELECT CONCAT(COUNT(*), ':', COALESCE(SUM(CRC32(VIEW_DEFINITION)), 0)) "
    "FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE())"
)
_QUALIFIED_CALL = re.compile(r"`(?:[^`]|``)+`\s*\.\s*`(?:[^`]|``)+`\s*\(")
_CALL = re.compile(r"(`(?:[^`]|``)+`|\w+)\s*\(")


@dataclass
class RoutineFacts:
    functions: dict[str, str] = field(default_factory=dict)  # lower name -> "db.f (DEFINER x)"
    views: dict[str, str] = field(default_factory=dict)  # lower view name -> why ("" harmless)


def load_facts(cur) -> RoutineFacts:
    facts = RoutineFacts()
    cur.execute(
        "SELECT ROUTINE_SCHEMA, ROUTINE_NAME, ROUTINE_TYPE, SECURITY_TYPE, DEFINER "
        "FROM information_schema.ROUTINES"
    )
    routines: set[str] = set()
    current = None
    for schema, name, kind, security, definer in cur.fetchall():
        routines.add(str(name).lower())
        facts.functions.setdefault(
            str(name).lower(), f"{schema}.{name} ({kind}, SQL SECURITY {security} {definer})")
    cur.execute("SELECT DATABASE()")
    current = cur.fetchone()[0]
    # only the current database's functions resolve unqualified
    facts.functions = {k: v for k, v in facts.functions.items()
                       if v.startswith(f"{current}.")}
    cur.execute(
        "SELECT TABLE_NAME, VIEW_DEFINITION, SECURITY_TYPE, DEFINER "
        "FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()"
    )
    raw = {str(n).lower(): (d or "", s, who) for n, d, s, who in cur.fetchall()}

    def why(name: str, seen: frozenset[str]) -> str:
        definition, security, definer = raw[name]
        if not definition.strip():
            return f"a definition this account may not read (SQL SECURITY {security})"
        qualified = _QUALIFIED_CALL.search(definition)  # stored functions are stored qualified
        if qualified:
            return (f"routine {qualified.group(0).rstrip('(').strip()} "
                    f"(SQL SECURITY {security} {definer})")
        for m in _CALL.finditer(definition):
            called = m.group(1).strip("`").lower()
            if called in routines:
                return f"routine {called}() (SQL SECURITY {security} {definer})"
        for other in raw:
            if other != name and other not in seen and re.search(
                rf"`{re.escape(other)}`", definition, re.IGNORECASE
            ):
                inner = why(other, seen | {name})
                if inner:
                    return f"view {other}, which reaches {inner}"
        return ""

    for name in raw:
        facts.views[name] = why(name, frozenset())
    return facts


def refusal(sql: str, facts: RoutineFacts, allowed: Iterable[str], *, mariadb: bool) -> str | None:
    allow = {str(a).strip().lower() for a in allowed}
    tokens = sqlglot.Dialect.get_or_raise("mysql").tokenize(sql)
    for i, tok in enumerate(tokens):
        if tok.token_type in (TokenType.STRING, TokenType.NATIONAL_STRING):
            continue
        if i + 1 >= len(tokens) or tokens[i + 1].token_type is not TokenType.L_PAREN:
            continue
        word = tok.text.lower()
        if mariadb and word in MARIADB_UNINTERRUPTIBLE and word not in allow:
            return (f"function {word}() cannot be interrupted by MariaDB once started (its cost "
                    f"grows with the input and it ignores the time limit and KILL)")
        if word in facts.functions and word not in allow:
            return (f"call {word}() resolves to stored function {facts.functions[word]}: "
                    f"only native built-ins run unless allowed by name")
    if any(facts.views.values()):
        tree = sqlglot.parse_one(sql, read="mysql")
        for table in tree.find_all(exp.Table):
            reason = facts.views.get(table.name.lower())
            if reason:
                return f"view {table.name} reaches {reason}: only built-ins run"
    return None


def definer_reach(cur) -> list[str]:
    """What this account can run with another account's rights: stored routines of SQL
    SECURITY DEFINER it can see (information_schema lists those it holds a privilege on) and
    DEFINER views of others whose definition calls a routine. Judged once, at connect."""
    cur.execute(
        "SELECT ROUTINE_SCHEMA, ROUTINE_NAME, ROUTINE_TYPE, DEFINER "
        "FROM information_schema.ROUTINES WHERE SECURITY_TYPE = 'DEFINER' "
        "AND DEFINER <> CURRENT_USER() ORDER BY 1, 2"
    )
    found = [f"EXECUTE on {kind.lower()} {schema}.{name} (SQL SECURITY DEFINER {definer})"
             for schema, name, kind, definer in cur.fetchall()]
    cur.execute(
        "SELECT TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION, DEFINER "
        "FROM information_schema.VIEWS WHERE SECURITY_TYPE = 'DEFINER' "
        "AND DEFINER <> CURRENT_USER() ORDER BY 1, 2"
    )
    for schema, name, definition, definer in cur.fetchall():
        call = _QUALIFIED_CALL.search(definition or "")
        if call:
            found.append(f"view {schema}.{name} (SQL SECURITY DEFINER {definer}) calling "
                         f"{call.group(0).rstrip('(').strip()}")
    return found
