"""Does a reasoning answer's text agree with its own final SQL? A structural check.

A reasoning answer whose final SQL returns the row's result can still teach the wrong thing:
its steps may read another table or filter on another value than the SQL it ends with (a
model that copies the hint's query after reasoning about something else). The check is cheap
and deterministic: the prose (the text outside code blocks) must name every table the SQL
reads and every string value it filters on, and must not quote a value the SQL does not use.
Names count in their SQL spelling or with ``_`` read as a space, singular or plural.

>>> reasoning_problem("Count the orders whose status is 'SHP'.\\n```sql\\n"
...                   "SELECT COUNT(*) FROM orders WHERE status = 'SHP'\\n```")
>>> reasoning_problem("Look in the stores table.\\n```sql\\nSELECT COUNT(*) FROM orders\\n```")
"the text never names the table 'orders'"
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from sqlsynth.sql import extract_sql

_FENCED = re.compile(r"```.*?(?:```|$)", re.DOTALL)
_QUOTED = re.compile(r"'([^'\n]{1,80})'|\"([^\"\n]{1,80})\"")


def _prose(text: str) -> str:
    return _FENCED.sub(" ", text).lower()


def _named(name: str, prose: str) -> bool:
    """``name`` (an identifier) appears in ``prose``: as spelt, with spaces, singular/plural."""
    base = name.lower()
    forms = {base, base.replace("_", " ")}
    forms |= {f[:-1] for f in forms if f.endswith("s") and len(f) > 3}
    return any(re.search(rf"(?<![a-z0-9_]){re.escape(f)}", prose) for f in forms)


def reasoning_problem(text: str, dialect: str = "sqlite") -> str | None:
    """Why the text of a reasoning answer contradicts its final SQL, or None when it agrees
    (also None when there is no SQL to compare with: other checks judge that)."""
    sql = extract_sql(text)
    if not sql:
        return None
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except SqlglotError:
        return None
    prose = _prose(text)
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    tables = [t.name for t in tree.find_all(exp.Table) if t.name and t.name.lower() not in ctes]
    for table in dict.fromkeys(tables):
        if not _named(table, prose):
            return f"the text never names the table {table!r}"
    values = {str(lit.this).strip("%").lower() for lit in tree.find_all(exp.Literal)
              if lit.is_string}
    values.discard("")
    for value in sorted(values):
        if value not in prose:
            return f"the text never names the value {value!r} its SQL filters on"
    identifiers = {i.name.lower() for i in tree.find_all(exp.Identifier)}
    literals = {str(lit.this).lower() for lit in tree.find_all(exp.Literal)}
    for match in _QUOTED.finditer(_FENCED.sub(" ", text)):
        quoted = (match.group(1) or match.group(2)).strip().lower()
        if not quoted or quoted in literals or any(quoted in v for v in values):
            continue
        if all(part.strip() in identifiers for part in quoted.split(".")):
            continue
        return f"the text quotes {quoted!r}, which its SQL does not use"
    return None
