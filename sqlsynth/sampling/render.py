"""sqlglot nodes for names and stored values, quoted only where the dialect needs it."""

from __future__ import annotations

import datetime as _dt
import math
from decimal import Decimal
from functools import lru_cache

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from sqlsynth.db.schema import quote_ident


@lru_cache(maxsize=8)
def _keywords(dialect: str) -> frozenset[str]:
    tokenizer = Dialect.get_or_raise(dialect).tokenizer_class
    return frozenset(k for k in tokenizer.KEYWORDS if k.isalpha())


def needs_quotes(name: str, dialect: str) -> bool:
    """Quote reserved words, odd characters and (on PostgreSQL) upper-case letters; plain
    names stay bare so the SQL reads like a person's."""
    return quote_ident(name, dialect) != name or name.upper() in _keywords(dialect)


def ident(name: str, dialect: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=needs_quotes(name, dialect))


def column(name: str, alias: str | None, dialect: str) -> exp.Column:
    return exp.Column(this=ident(name, dialect),
                      table=exp.to_identifier(alias) if alias else None)


def table(name: str, alias: str | None, dialect: str) -> exp.Table:
    node = exp.Table(this=ident(name, dialect))
    if alias:
        node.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
    return node


def literal(value: object) -> exp.Expression | None:
    """A stored value as a literal, or None for values a query should not spell out."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, Decimal)):
        return exp.Literal.number(str(value))
    if isinstance(value, float):
        return exp.Literal.number(repr(value)) if math.isfinite(value) else None
    if isinstance(value, _dt.datetime):
        return exp.Literal.string(value.isoformat(sep=" "))
    if isinstance(value, (_dt.date, _dt.time)):
        return exp.Literal.string(value.isoformat())
    if isinstance(value, str):
        return exp.Literal.string(value) if 0 < len(value) <= 80 and "\x00" not in value else None
    return None


def render(node: exp.Expression, dialect: str) -> str:
    return node.sql(dialect=dialect)
