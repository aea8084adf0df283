"""The guard's rendering must mean what the statement meant: refuse, never rewrite, otherwise.

The guard sends its own rendering of the approved tree (``sqlsynth.db.guard``), so every place
where sqlglot's parse-and-write loses or changes something is a place where the server runs
another statement than the one written (and checked by the reach checks, which ask the server
about the text it receives). Three ways that happens, each closed here for the whole class:

* **names sqlglot translates**: sqlglot reads names from every dialect it knows, so a name the
  engine lacks (SQLite ``to_hex``, MySQL ``nvl``) is parsed as the function it means elsewhere
  and written as this engine's (``HEX``): an error becomes a result. Every name the text calls
  that sqlglot knows must be a built-in of the engine (:func:`foreign_call`);
* **parts sqlglot drops**: an argument past a function's known arity (``hex(1, 2)`` becomes
  ``HEX(1)``) vanishes from the tree. Every literal and name of the text must still be in the
  rendering (:func:`lost_part`);
* **spellings sqlglot changes**: it quotes bare names it holds reserved (MySQL ``FROM DUAL``
  became a table `` `DUAL` ``) and writes some native calls as other syntax (MySQL
  ``INTERVAL(5, 1, 10)``, ``TIMESTAMPADD``). :func:`faithful_generator` writes bare names bare
  and those calls as the engine spells them; the guard's parse-back check still applies.
"""

from __future__ import annotations

import functools
from collections import Counter
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, SqlglotError
from sqlglot.tokens import Token, TokenType

_LITERALS = frozenset({TokenType.NUMBER, TokenType.STRING, TokenType.HEX_STRING,
                       TokenType.BIT_STRING, TokenType.NATIONAL_STRING, TokenType.RAW_STRING,
                       TokenType.BYTE_STRING})
_NAMES = frozenset({TokenType.VAR, TokenType.IDENTIFIER})
#: words sqlglot reads as names but keeps as flags, written only when not the default
_SOFT_KEYWORDS = frozenset({"nulls", "first", "last"})


def _tokens(sql: str, dialect: str) -> list[Token] | None:
    try:
        return list(Dialect.get_or_raise(dialect).tokenize(sql))
    except (SqlglotError, ValueError):
        return None


def _is_call(tokens: list[Token], i: int) -> bool:
    return i + 1 < len(tokens) and tokens[i + 1].token_type is TokenType.L_PAREN


@functools.lru_cache(maxsize=8)
def _known_functions(dialect: str) -> frozenset[str]:
    """Names sqlglot's parser for ``dialect`` turns into typed functions (upper case)."""
    parser = Dialect.get_or_raise(dialect).parser_class
    return frozenset(parser.FUNCTIONS) | frozenset(getattr(parser, "FUNCTION_PARSERS", {}))


def foreign_call(sql: str, dialect: str, allowed: frozenset[str]) -> str | None:
    """The first function name ``sql`` calls that sqlglot knows but the engine does not
    have (not on ``allowed``, the engine's own spellings), or None."""
    tokens = _tokens(sql, dialect)
    if tokens is None:
        return None
    known = _known_functions(dialect)
    for i, tok in enumerate(tokens):
        if tok.token_type is TokenType.VAR and _is_call(tokens, i):
            name = tok.text
            if name.upper() in known and name.lower() not in allowed:
                return name
    return None


def _literal_key(tok: Token) -> str:
    text = tok.text
    if tok.token_type is TokenType.HEX_STRING and tok.text:
        try:
            return str(int(text, 16))  # 0x10 is written 16
        except ValueError:
            return text.lower()
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return text.casefold()  # sqlglot writes units upper case ('month' -> 'MONTH')
    return str(number.normalize()) if number.is_finite() else text.casefold()


def _parts(sql: str, dialect: str) -> Counter[str] | None:
    """The literals and names (not the function names) ``sql`` spells, normalized."""
    tokens = _tokens(sql, dialect)
    if tokens is None:
        return None
    parts: Counter[str] = Counter()
    for i, tok in enumerate(tokens):
        # one key space: sqlglot may write a string as a name (MySQL's alias "full name"
        # becomes `full name`) or a number as a string (INTERVAL 1 DAY -> INTERVAL '1' DAY)
        if tok.token_type in _LITERALS or (tok.token_type in _NAMES
                                           and not _is_call(tokens, i)
                                           and tok.text.lower() not in _SOFT_KEYWORDS):
            parts[_literal_key(tok)] += 1
    return parts


def lost_part(sql: str, rendered: str, dialect: str) -> str | None:
    """A literal or name of ``sql`` its rendering no longer has (quoted), or None."""
    before, after = _parts(sql, dialect), _parts(rendered, dialect)
    if before is None or after is None:
        return None
    missing = before - after
    return repr(next(iter(missing))) if missing else None


def _identifier_sql(self: Any, expression: exp.Identifier) -> str:
    """A name the statement left bare is written bare: quoting it would make the server read
    another thing (a table `` `DUAL` `` for MySQL's ``DUAL``, a column ``"user"`` for
    PostgreSQL's ``user``); the guard parses the text back either way."""
    name = expression.name
    if not expression.quoted and name.isidentifier() and name.isascii():
        return name
    return super(type(self), self).identifier_sql(expression)


def _mysql_interval_sql(self: Any, expression: exp.Interval) -> str:
    """MySQL's ``INTERVAL(N, N1, ...)`` (the index of the first Ni > N) is a call, not an
    interval of a tuple."""
    this = expression.this
    if isinstance(this, exp.Tuple) and not expression.args.get("unit"):
        return self.func("INTERVAL", *this.expressions)
    return super(type(self), self).interval_sql(expression)


def _mysql_timestampadd_sql(self: Any, expression: exp.TimestampAdd) -> str:
    """MySQL's own ``TIMESTAMPADD(unit, n, t)``, not sqlglot's ``DATE_ADD`` spelling."""
    return self.func("TIMESTAMPADD", expression.args.get("unit"), expression.expression,
                     expression.this)


@functools.lru_cache(maxsize=8)
def _generator_class(dialect: str) -> type:
    dialect_obj = Dialect.get_or_raise(dialect)
    base = dialect_obj.generator_class
    body: dict[str, Any] = {"identifier_sql": _identifier_sql}
    if type(dialect_obj).__name__ == "MySQL":
        body["interval_sql"] = _mysql_interval_sql
        body["TRANSFORMS"] = {**base.TRANSFORMS, exp.TimestampAdd: _mysql_timestampadd_sql}
    return type(f"Faithful{base.__name__}", (base,), body)


def faithful_generator(dialect: str) -> Any:
    """sqlglot's generator for ``dialect``, writing names and native calls as written."""
    return _generator_class(dialect)(comments=False, unsupported_level=ErrorLevel.RAISE,
                                     dialect=Dialect.get_or_raise(dialect))
