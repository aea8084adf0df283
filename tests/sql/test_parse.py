"""Parsing limits: huge or deeply nested text is a clear error, fast, never a RecursionError."""

from __future__ import annotations

import time

import pytest

from sqlsynth.sql import classify_statement, parse_single
from sqlsynth.sql.parse import (
    MAX_NESTING_DEPTH,
    MAX_SQL_CHARS,
    MAX_SQL_TOKENS,
    SQLParseError,
    SQLTooLargeError,
    check_size,
    nesting_depth,
    token_count,
)

HUGE = {
    "1.2 MB": "SELECT 1" + ", 1" * 400_000,
    "5,000-deep parentheses": "SELECT " + "(" * 5000 + "1" + ")" * 5000,
    "300 nested subqueries": "SELECT " + "(SELECT " * 300 + "1" + ")" * 300,
    "too many tokens": "SELECT a FROM t WHERE a IN (" + ", ".join(["1"] * 6000) + ")",
}


@pytest.mark.parametrize("what", sorted(HUGE))
def test_huge_or_deep_text_is_refused_before_parsing(what):
    start = time.perf_counter()
    with pytest.raises(SQLTooLargeError):
        parse_single(HUGE[what])
    assert time.perf_counter() - start < 5.0  # hang guard only
    assert issubclass(SQLTooLargeError, SQLParseError)
    assert classify_statement(HUGE[what]) == "invalid"


def test_limits_and_counters():
    assert nesting_depth("SELECT ((1)), (2)") == 2
    assert nesting_depth(") (") == 1
    assert token_count("SELECT a, b FROM t") == 6
    assert token_count("x " * 50, limit=10) == 11
    check_size("SELECT " + "(" * MAX_NESTING_DEPTH + "1" + ")" * MAX_NESTING_DEPTH)
    with pytest.raises(SQLTooLargeError, match="deeper"):
        check_size("SELECT " + "(" * (MAX_NESTING_DEPTH + 1))
    with pytest.raises(SQLTooLargeError, match="characters"):
        check_size(" " * (MAX_SQL_CHARS + 1))
    with pytest.raises(SQLTooLargeError, match="tokens"):
        check_size("1," * MAX_SQL_TOKENS)


def test_deep_expressions_without_parentheses_are_an_error_not_a_crash():
    for sql in ("SELECT " + "NOT " * 3000 + "1", "SELECT " + "- " * 3000 + "1"):
        try:
            parse_single(sql)
        except SQLParseError:
            pass


@pytest.mark.parametrize(
    ("sql", "dialect", "kind"),
    [
        ("SELECT * INTO t2 FROM t", "postgres", "write"),
        ("SELECT a FROM t FOR UPDATE", "postgres", "command"),
        ("SELECT a FROM t FOR SHARE", "mysql", "command"),
        ("SELECT a FROM t", "mysql", "select"),
    ],
)
def test_writing_and_locking_selects_are_not_reads(sql, dialect, kind):
    assert classify_statement(sql, dialect) == kind
