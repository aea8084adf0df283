"""One place that turns SQL text into a single sqlglot tree, with one error type.

Every helper in this package needs "exactly one statement, or a clear error"; sqlglot's own
``parse_one`` silently keeps only the first of several statements in some versions, so the
check lives here.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

# Parsing is recursive and slow on huge input (a 1.2 MB statement took seconds, 5,000 nested
# parentheses overflowed the stack). No real query comes near these; both are checked in
# linear time before sqlglot sees the text.
MAX_SQL_CHARS = 100_000
MAX_NESTING_DEPTH = 24
# sqlglot parses roughly 20,000 tokens a second; the guard parses twice and renders once,
# so the largest statement allowed costs well under a second to check.
MAX_SQL_TOKENS = 5_000

_PARENS = re.compile(r"[()]")
# a quoted string or name is one token however long (a 12 KB literal is one value)
_TOKENS = re.compile(r"'[^']*(?:''[^']*)*'?|\"[^\"]*(?:\"\"[^\"]*)*\"?|`[^`]*(?:``[^`]*)*`?"
                     r"|\w+|[^\w\s]")


class SQLParseError(ValueError):
    """The text is not exactly one statement that sqlglot can parse in the given dialect."""


class SQLTooLargeError(SQLParseError):
    """The text is longer, or nests deeper, than any query sqlglot is asked to parse."""


def nesting_depth(sql: str) -> int:
    """The deepest parenthesis nesting in `sql`, counting every parenthesis (even quoted
    ones: an upper bound is all the size check needs)."""
    depth = deepest = 0
    for match in _PARENS.finditer(sql):
        if match.group() == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif depth:
            depth -= 1
    return deepest


def token_count(sql: str, limit: int | None = None) -> int:
    """About how many tokens sqlglot will see (quoted strings and names, words, single
    punctuation marks), counted up to `limit` + 1 at most."""
    count = 0
    for _ in _TOKENS.finditer(sql):
        count += 1
        if limit is not None and count > limit:
            break
    return count


def check_size(
    sql: str,
    *,
    max_chars: int = MAX_SQL_CHARS,
    max_depth: int = MAX_NESTING_DEPTH,
    max_tokens: int = MAX_SQL_TOKENS,
) -> None:
    """Raise `SQLTooLargeError` when `sql` is too long, has too many tokens or nests too deep
    to parse quickly and safely. Linear in the text, milliseconds on the longest allowed."""
    if len(sql) > max_chars:
        raise SQLTooLargeError(f"statement of {len(sql):,} characters (limit {max_chars:,})")
    if token_count(sql, max_tokens) > max_tokens:
        raise SQLTooLargeError(f"statement of more than {max_tokens:,} tokens")
    if "(" in sql and nesting_depth(sql) > max_depth:
        raise SQLTooLargeError(f"parentheses nested deeper than {max_depth}")


def parse_single(sql: str, dialect: str = "sqlite") -> exp.Expression:
    """Parse ``sql`` into one expression tree; raise ``SQLParseError`` otherwise (also for
    text too long or too deeply nested to parse, see `check_size`)."""
    if not isinstance(sql, str) or not sql.strip():
        raise SQLParseError("empty SQL")
    check_size(sql)
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
