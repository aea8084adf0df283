"""One place that turns SQL text into a single sqlglot tree, with one error type.

Every helper in this package needs "exactly one statement, or a clear error"; sqlglot's own
``parse_one`` silently keeps only the first of several statements in some versions, so the
check lives here.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError


class SQLParseError(ValueError):
    """The text is not exactly one statement that sqlglot can parse in the given dialect."""


def parse_single(sql: str, dialect: str = "sqlite") -> exp.Expression:
    """Parse ``sql`` into one expression tree; raise ``SQLParseError`` otherwise."""
    if not isinstance(sql, str) or not sql.strip():
        raise SQLParseError("empty SQL")
    try:
        trees = [t for t in sqlglot.parse(sql, read=dialect or None) if t is not None]
    except SqlglotError as err:
        raise SQLParseError(f"cannot parse SQL ({dialect}): {err}") from err
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as err:
        raise SQLParseError(f"cannot parse SQL ({dialect}): {type(err).__name__}: {err}") from err
    if not trees:
        raise SQLParseError("no statement found")
    if len(trees) > 1:
        raise SQLParseError(f"expected one statement, found {len(trees)}")
    return trees[0]


def unparen(node: exp.Expression) -> exp.Expression:
    """Strip redundant parentheses, which carry no meaning for comparison or counting."""
    while isinstance(node, exp.Paren):
        node = node.this
    return node
