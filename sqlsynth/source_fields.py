"""Fields a public dataset derives from a row's SQL or question: kept only while they agree.

Spider rows carry, beside ``query`` and ``question``, their tokens (``query_toks``,
``query_toks_no_value``, ``question_toks``) and Spider's own parse of the query (``sql``);
BIRD rows a ``difficulty`` label for their (question, SQL) pair. ``refine`` keeps every field
an input row has, but once a row's SQL is rewritten (a variation, a vote adopting another
query) or its question is new, those fields describe another pair: anyone training from
Spider's keys would get a question and a query that do not belong together.

``consistent_source_fields`` is applied to every row written to ``final.jsonl`` and to every
exported row: an alias of the SQL (Spider's ``query``) is rewritten to the row's SQL, a field
derived from a changed SQL or question is dropped. Whether a value changed is decided from
the row itself (its tokens, its alias, ``original_SQL``, ``sql_variation_type``), so rows of
older runs are made consistent too. Pure and dependency-free: storage and the operators use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: other names of the row's SQL in public datasets (Spider: ``query``; ``sql`` when a string)
SQL_ALIASES = ("query", "sql")
#: fields derived from the SQL: Spider's tokens and parse (``sql`` as a dict), BIRD's label
SQL_DERIVED = ("query_toks", "query_toks_no_value", "sql", "difficulty")
#: fields derived from the question: Spider's tokens
QUESTION_DERIVED = ("question_toks",)
#: every field this module may drop or rewrite (a rewrite of the SQL leaves them out)
SOURCE_FIELDS = tuple(dict.fromkeys((*SQL_ALIASES, *SQL_DERIVED, *QUESTION_DERIVED)))


def _letters(text: str) -> str:
    """Lower-case letters and digits only: equal for the same text up to spacing, case,
    quoting and tokenization (Spider's tokens, NLTK's ```` `` ````/``''`` quotes)."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _joined_tokens(value: Any) -> str | None:
    if isinstance(value, list) and value and all(isinstance(t, str) for t in value):
        return _letters("".join(value))
    return None


def sql_changed(row: Mapping[str, Any], sql_key: str = "SQL") -> bool:
    """True when the row holds evidence that its SQL is not the input row's SQL."""
    sql = row.get(sql_key)
    if not isinstance(sql, str):
        return False
    if row.get("sql_variation_type") not in (None, ""):
        return True  # a rewrite of the input's query
    mine = _letters(sql)
    original = row.get("original_SQL")
    if isinstance(original, str) and _letters(original) != mine:
        return True  # a vote adopted another query
    tokens = _joined_tokens(row.get("query_toks"))
    if tokens is not None and tokens != mine:
        return True
    return any(isinstance(row.get(alias), str) and _letters(row[alias]) != mine
               for alias in SQL_ALIASES if alias != sql_key)


def question_changed(row: Mapping[str, Any], question_key: str = "question") -> bool:
    """True when the question's tokens (Spider's ``question_toks``) are another question's."""
    question = row.get(question_key)
    tokens = _joined_tokens(row.get("question_toks"))
    if not isinstance(question, str) or tokens is None:
        return False
    return tokens != _letters(question)


def consistent_source_fields(row: Mapping[str, Any], *, sql_key: str = "SQL",
                             question_key: str = "question",
                             new_sql: bool = False) -> dict[str, Any]:
    """``row`` with its dataset fields agreeing with its SQL and question (see module doc).

    An alias of the SQL is rewritten to the SQL; derived fields of a changed value are
    dropped; a row without such fields comes back unchanged (as a copy). ``new_sql``: the
    caller knows the SQL is a rewrite (``SQLVariationGenerator``).
    """
    out = dict(row)
    sql = out.get(sql_key)
    if isinstance(sql, str) and (new_sql or sql_changed(out, sql_key)):
        for name in SQL_DERIVED:
            if name == sql_key or (name in SQL_ALIASES and isinstance(out.get(name), str)):
                continue  # ``sql`` holding the query text is an alias, rewritten below
            out.pop(name, None)
        for alias in SQL_ALIASES:
            if alias != sql_key and isinstance(out.get(alias), str):
                out[alias] = sql
    if question_changed(out, question_key):
        for name in QUESTION_DERIVED:
            out.pop(name, None)
    return out
