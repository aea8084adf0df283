"""Readable English names for tables and columns, as canonical questions use them.

Schemas name things ``order_items``, ``OrderItems``, ``"Order Items"`` or ``orderitems``; a
question says "order items". The column's comment is kept apart: it explains a value (flag
letters, units, formats) and goes into the evidence, not the question.
"""

from __future__ import annotations

import re

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[_\s\-.]+")


def humanize(name: str) -> str:
    """``OrderItems`` / ``order_items`` / ``"Order Items"`` -> ``order items``."""
    words = []
    for part in _SEPARATORS.split(name.strip()):
        words.extend(w for w in _CAMEL.split(part) if w)
    return " ".join(w.lower() for w in words) or name


def singular(words: str) -> str:
    """A plain English singular of the last word: ``order items`` -> ``order item``."""
    head, _, last = words.rpartition(" ")
    if last.endswith(("yses", "oses")) and not last.endswith(("ouses", "ooses")):
        last = last[:-2] + "is"  # analyses, diagnoses
    elif last.endswith("ies") and len(last) > 4:
        last = last[:-3] + "y"
    elif last.endswith(("sses", "shes", "ches", "xes")):
        last = last[:-2]
    elif last.endswith("s") and not last.endswith(("ss", "us", "is")) and len(last) > 3:
        last = last[:-1]
    return f"{head} {last}".strip()


def plural(words: str) -> str:
    """The plural a table name usually already has; singular table names get one."""
    head, _, last = words.rpartition(" ")
    if singular(last) != last or last.endswith(("data", "info", "staff")):
        return words
    if last.endswith("y") and last[-2:-1] not in "aeiou":
        last = last[:-1] + "ies"
    elif last.endswith(("s", "x", "ch", "sh")):
        last += "es"
    else:
        last += "s"
    return f"{head} {last}".strip()


def relation_name(fk_column: str, target_table: str, target_column: str = "") -> str:
    """What a foreign key calls its target: ``manager_id`` -> ``manager``, else the table.

    A key named like the column it references (``roworder`` -> ``indicators.roworder``) says
    nothing about the relation, so the target table names it.
    """
    if target_column and fk_column.lower() == target_column.lower():
        return singular(humanize(target_table))
    stem = re.sub(r"(_?id|_?code|_?no|_?key)$", "", fk_column, flags=re.IGNORECASE)
    words = humanize(stem) if stem else ""
    target = singular(humanize(target_table))
    return words if words and words != target and words not in target else target
