"""PostgreSQL: refuse a statement that would reach a user-defined object the text never names.

The guard checks the names a statement spells; the server resolves objects the text does not
name, with their owners' rights: functional notation (`o.f` is `f(o)`), overloads of
allowlisted names (`upper(42)` -> a `public.upper(int)`), names this server version lacks
(`any_value` on PostgreSQL 15) resolving to user functions, user operators (`a + 'x'`), casts
and domain CHECK constraints (`CAST(1 AS mydom)`), views (their definitions, recursively) and
row-level-security policies of every table reached. So before a statement runs (and before
`EXPLAIN` of it), the worker reads the catalogs of its database and refuses the statement when
any path above leads to an object outside the built-ins — an object with
`oid >= FirstNormalObjectId` (16384): everything created after `initdb`, extensions included —
unless its name is in `allowed_functions`.

Why the catalogs and not `EXPLAIN (VERBOSE)`: planning is itself an execution path (the planner
folds IMMUTABLE calls with constant arguments and evaluates STABLE ones to estimate
selectivity), so the decision has to come before any plan is made.

The facts are cached per database and catalog version (one cheap stamp query per statement:
count and newest `xmin` of the user rows of every catalog involved); a database without user
functions, operators, casts, domains, rules or policies costs only that stamp.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.tokens import TokenType

FIRST_NORMAL_OID = 16384

_CATALOGS = ("pg_proc", "pg_operator", "pg_cast", "pg_type", "pg_class", "pg_rewrite",
             "pg_policy", "pg_constraint", "pg_namespace")
STAMP_SQL = "SELECT " + ", ".join(
    f"(SELECT count(*)::text || ':' || coalesce(max(xmin::text::bigint), 0)::text "
    f"FROM pg_catalog.{c} WHERE oid >= {FIRST_NORMAL_OID})"
    for c in _CATALOGS
)


@dataclass
class CatalogFacts:
    """What a database holds beyond the built-ins, as far as a SELECT can reach it."""

    functions: dict[str, list[str]] = field(default_factory=dict)  # name -> ["schema.f(args)"]
    operators: dict[str, str] = field(default_factory=dict)  # symbol -> description
    cast_types: dict[str, str] = field(default_factory=dict)  # type name -> why
    # relation name (bare, lower) -> what it reaches (first reason), "" when harmless
    relations: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.functions or self.operators or self.cast_types
                    or any(self.relations.values()))


def load_facts(conn) -> CatalogFacts:
    """Read the user objects of the connected database (trusted catalog queries)."""
    facts = CatalogFacts()
    n = FIRST_NORMAL_OID
    for name, schema, args, secdef in conn.execute(
        "SELECT p.proname, n.nspname, pg_catalog.pg_get_function_identity_arguments(p.oid), "
        "p.prosecdef FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n "
        f"ON n.oid = p.pronamespace WHERE p.oid >= {n}"
    ).fetchall():
        label = f"{schema}.{name}({args})" + (" SECURITY DEFINER" if secdef else "")
        facts.functions.setdefault(str(name).lower(), []).append(label)
    for symbol, code in conn.execute(
        "SELECT o.oprname, o.oprcode::regprocedure::text FROM pg_catalog.pg_operator o "
        f"WHERE o.oid >= {n} OR o.oprcode >= {n}"
    ).fetchall():
        facts.operators[str(symbol)] = f"operator {symbol} (runs {code})"
    for src, dst, func in conn.execute(
        "SELECT format_type(c.castsource, NULL), format_type(c.casttarget, NULL), "
        "c.castfunc::regprocedure::text FROM pg_catalog.pg_cast c "
        f"WHERE c.oid >= {n} OR c.castfunc >= {n}"
    ).fetchall():
        why = f"cast {src} -> {dst} (runs {func})"
        for t in (src, dst):
            facts.cast_types[_type_key(t)] = why
    for tname, kind in conn.execute(
        "SELECT t.typname, t.typtype FROM pg_catalog.pg_type t "
        f"WHERE t.oid >= {n} AND t.typtype IN ('d', 'b', 'r', 'm')"
    ).fetchall():
        what = {"d": "domain", "b": "base type", "r": "range type", "m": "multirange type"}
        facts.cast_types.setdefault(_type_key(tname), f"user-defined {what[kind]} {tname}")
    _load_relations(conn, facts)
    return facts


def _load_relations(conn, facts: CatalogFacts) -> None:
    """For every user relation: the first user object its rules (view definitions) or
    row-level-security policies reach, following other relations recursively."""
    n = FIRST_NORMAL_OID
    names: dict[int, str] = {}
    for oid, relname, kind, rls in conn.execute(
        "SELECT c.oid, c.relname, c.relkind, c.relrowsecurity FROM pg_catalog.pg_class c "
        f"WHERE c.oid >= {n} AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
    ).fetchall():
        names[int(oid)] = str(relname)
    # edges: relation -> objects its rewrite rules and policies depend on
    edges: dict[int, list[tuple[str, int, str]]] = {}
    for relid, refclass, refid, label in conn.execute(
        "SELECT coalesce(r.ev_class, p.polrelid), d.refclassid::regclass::text, d.refobjid, "
        "CASE d.refclassid WHEN 'pg_proc'::regclass THEN d.refobjid::regprocedure::text "
        "WHEN 'pg_operator'::regclass THEN d.refobjid::regoperator::text "
        "WHEN 'pg_type'::regclass THEN format_type(d.refobjid, NULL) "
        "WHEN 'pg_class'::regclass THEN d.refobjid::regclass::text ELSE d.refobjid::text END "
        "FROM pg_catalog.pg_depend d "
        "LEFT JOIN pg_catalog.pg_rewrite r ON d.classid = 'pg_rewrite'::regclass "
        "AND r.oid = d.objid "
        "LEFT JOIN pg_catalog.pg_policy p ON d.classid = 'pg_policy'::regclass "
        "AND p.oid = d.objid "
        "WHERE d.classid IN ('pg_rewrite'::regclass, 'pg_policy'::regclass) "
        f"AND d.refobjid >= {n}"
    ).fetchall():
        if relid is not None:
            edges.setdefault(int(relid), []).append((str(refclass), int(refid), str(label)))
    policies = {int(r[0]) for r in conn.execute(
        "SELECT DISTINCT polrelid FROM pg_catalog.pg_policy").fetchall()}
    domains = {int(r[0]) for r in conn.execute(
        f"SELECT oid FROM pg_catalog.pg_type WHERE oid >= {n} AND typtype IN ('d','b','r','m')"
    ).fetchall()}

    memo: dict[int, str] = {}

    def reach(oid: int, seen: frozenset[int]) -> str:
        if oid in memo:
            return memo[oid]
        why = ""
        for refclass, refid, label in edges.get(oid, ()):
            if refclass == "pg_proc":
                why = f"function {label}"
            elif refclass == "pg_operator":
                why = f"operator {label}"
            elif refclass == "pg_type" and refid in domains:
                why = f"type {label}"
            elif refclass == "pg_class" and refid != oid and refid not in seen:
                inner = reach(refid, seen | {oid})
                if inner:
                    why = f"{label}, which reaches {inner}"
            if why:
                break
        if not why and oid in policies and not edges.get(oid):
            why = ""  # policies over built-ins only
        memo[oid] = why
        return why

    for oid, relname in names.items():
        why = reach(oid, frozenset())
        prior = facts.relations.get(relname.lower())
        facts.relations[relname.lower()] = prior or why  # same name in two schemas: worst


def _type_key(name: str) -> str:
    return str(name).strip().strip('"').rsplit(".", 1)[-1].lower()


def refusal(sql: str, facts: CatalogFacts, allowed: Iterable[str]) -> str | None:
    """Why `sql` (the guard's PostgreSQL rendering) would reach a user object, or None."""
    if facts.empty:
        return None
    allow = {str(a).strip().lower() for a in allowed}
    tree = sqlglot.parse_one(sql, read="postgres")
    tokens = sqlglot.Dialect.get_or_raise("postgres").tokenize(sql)
    for i, tok in enumerate(tokens):
        if tok.token_type in (TokenType.STRING, TokenType.NATIONAL_STRING):
            continue
        word = tok.text.lower()
        if word in facts.functions and word not in allow:
            follows_paren = i + 1 < len(tokens) and tokens[i + 1].token_type is TokenType.L_PAREN
            how = "a call" if follows_paren else "a name (functional notation `x.f` is `f(x)`)"
            return (f"{how} that resolves to user-defined function "
                    f"{facts.functions[word][0]}: only built-ins run unless allowed by name")
    code = _code_text(sql, tokens)
    for symbol, what in facts.operators.items():
        if symbol in code:
            return f"{what} is user-defined: only built-in operators run"
    for node in tree.find_all(exp.DataType):
        key = _type_key(node.sql("postgres").split("(")[0])
        if key in facts.cast_types:
            return f"cast to {facts.cast_types[key]}: only built-in conversions run"
    for table in tree.find_all(exp.Table):
        why = facts.relations.get(table.name.lower())
        if why:
            return (f"relation {table.name} reaches {why} (view definition or row-level "
                    f"security policy): only built-ins run")
    if facts.cast_types:  # an implicit cast from a column of such a type
        for ident in tree.find_all(exp.Identifier):
            if ident.name.lower() in facts.cast_types:
                return f"{facts.cast_types[ident.name.lower()]} is named: only built-ins run"
    return None


def _code_text(sql: str, tokens) -> str:
    """The rendering with string literals and quoted identifiers blanked (operator search)."""
    out = list(sql)
    for tok in tokens:
        if tok.token_type in (TokenType.STRING, TokenType.IDENTIFIER, TokenType.NATIONAL_STRING):
            for k in range(tok.start, tok.end + 1):
                out[k] = " "
    return "".join(out)
