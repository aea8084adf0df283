"""Literal-free, canonically formatted SQL, so that queries differing only in constants or
layout dedupe to one template (``SELECT * FROM t WHERE a = 5`` ~ ``select *  from t where a=7``).
"""

from __future__ import annotations

import re

from sqlglot import exp

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
