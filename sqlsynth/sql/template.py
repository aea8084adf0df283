"""Literal-free, canonically formatted SQL, so that queries differing only in constants or
layout dedupe to one template (``SELECT * FROM t WHERE a = 5`` ~ ``select *  from t where a=7``).
"""

from __future__ import annotations

import re

from sqlglot import exp

from sqlsynth.sql.memo import memo_by_text
from sqlsynth.sql.parse import SQLParseError, parse_single

PLACEHOLDER = "?"

# Value positions: a double-quoted "identifier" on the right of these is a string constant in
# practice (SQLite and Spider-style SQL), so it is templated like one.
_VALUE_PARENTS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Like, exp.ILike,
                  exp.In, exp.Between)


def is_quoted_value(node: exp.Expression) -> bool:
    """A bare double-quoted name used as a comparison operand, i.e. a string literal in SQLite."""
    if not isinstance(node, exp.Column) or node.table:
        return False
    ident = node.this
    if not isinstance(ident, exp.Identifier) or not ident.quoted:
        return False
    parent = node.parent
    if isinstance(parent, exp.In):
        return node is not parent.this
    if isinstance(parent, exp.Between):
        return node is not parent.this
    return isinstance(parent, _VALUE_PARENTS) and node is parent.expression


def _replace_literals(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return exp.Placeholder()
    if isinstance(node, exp.Literal) or is_quoted_value(node):
        return exp.Placeholder()
    return node


_STRING = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.])")
_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"\s*([(),=<>!+*/-]+)\s*")


def _regex_template(sql: str) -> str:
    """Best effort for SQL that sqlglot cannot parse: still literal-free and whitespace-stable."""
    text = _STRING.sub(PLACEHOLDER, sql.strip().rstrip(";"))
    text = _NUMBER.sub(PLACEHOLDER, text)
    text = _PUNCT.sub(lambda m: f" {m.group(1)} ", text)
    return _SPACE.sub(" ", text).strip().lower()


def sql_template(sql: str, dialect: str = "sqlite") -> str:
    """``sql`` with every literal replaced by ``?`` and formatting/identifier case canonicalised.

    Falls back to a regex normalisation when sqlglot cannot parse the statement.
    """
    try:
        tree = parse_single(sql, dialect)
        templated = tree.transform(_replace_literals, copy=True)
        return templated.sql(dialect=dialect or None, normalize=True, comments=False)
    except SQLParseError:
        return _regex_template(sql)
    except Exception:  # noqa: BLE001 - sqlglot generation errors on exotic trees
        return _regex_template(sql)


_SAFE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def _canonical_table_aliases(tree: exp.Expression) -> None:
    """Table aliases replaced by the table's name (or ``t1``, ``t2``... for a table used twice),
    and the qualifiers of a single-table query dropped: ``FROM singer AS s`` ~ ``FROM singer``.

    An alias bound to different tables in different scopes is left alone (renaming it by one
    binding would be wrong for the other).
    """
    tables = list(tree.find_all(exp.Table))
    uses: dict[str, int] = {}
    for table in tables:
        uses[table.name.lower()] = uses.get(table.name.lower(), 0) + 1
    bound: dict[str, set[str]] = {}
    for table in tables:
        if table.alias:
            bound.setdefault(table.alias.lower(), set()).add(table.name.lower())
    mapping: dict[str, str] = {}
    numbered = 0
    for table in tables:
        alias = table.alias.lower() if table.alias else ""
        if not alias or len(bound[alias]) != 1 or alias in mapping:
            continue
        name = table.name.lower()
        if uses[name] == 1:
            mapping[alias] = name
            table.set("alias", None)
        else:
            numbered += 1
            mapping[alias] = f"t{numbered}"
            table.set("alias", exp.TableAlias(this=exp.to_identifier(mapping[alias])))
    for column in tree.find_all(exp.Column):
        qualifier = column.table.lower() if column.table else ""
        if qualifier in mapping:
            column.set("table", exp.to_identifier(mapping[qualifier]))
    if len(tables) == 1 and not any(True for _ in tree.find_all(exp.Subquery)):
        for column in tree.find_all(exp.Column):
            column.set("table", None)


def _without_output_aliases(select: exp.Expression) -> None:
    """Output-column aliases of the outer SELECT removed (they name columns, they do not change
    the rows); ORDER BY / GROUP BY / HAVING references to them get the aliased expression."""
    if not isinstance(select, exp.Select):
        return
    aliased = {a.alias.lower(): a.this for a in select.expressions
               if isinstance(a, exp.Alias) and a.alias}
    for arg in ("order", "group", "having"):
        part = select.args.get(arg)
        if part is None:
            continue
        for column in list(part.find_all(exp.Column)):
            if not column.table and column.name.lower() in aliased:
                column.replace(aliased[column.name.lower()].copy())
    select.set("expressions", [a.this if isinstance(a, exp.Alias) else a
                               for a in select.expressions])


def _unquoted(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Identifier) and _SAFE_NAME.match(node.name.lower()):
        return exp.Identifier(this=node.name.lower(), quoted=False)
    return node


@memo_by_text()
def sql_meaning_key(sql: str, dialect: str = "sqlite") -> str:
    """A key equal for queries that differ only in literals, layout, identifier quoting/case,
    table aliases or output-column aliases: the duplicate test of both pipelines.

    ``SELECT s.name AS n FROM singer AS s WHERE s.age > 30`` and
    ``select "name" from singer where age > 45`` share a key; a different column, table,
    operator or clause does not. Falls back to ``sql_template``'s regex form when sqlglot
    cannot parse the statement.
    """
    try:
        tree = parse_single(sql, dialect).transform(_replace_literals, copy=True)
        _canonical_table_aliases(tree)
        outer = tree
        while isinstance(outer, exp.Subquery):
            outer = outer.this
        for select in ([outer.left, outer.right] if isinstance(outer, exp.Union) else [outer]):
            _without_output_aliases(select)
        tree = tree.transform(_unquoted)
        return tree.sql(dialect=dialect or None, normalize=True, comments=False)
    except SQLParseError:
        return _regex_template(sql)
    except Exception:  # noqa: BLE001 - sqlglot generation errors on exotic trees
        return _regex_template(sql)
