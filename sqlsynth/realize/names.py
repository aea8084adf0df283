"""Human names for tables and columns: ``order_items`` -> "order items", ``FirstName`` ->
"first name", ``"Unit Price"`` -> "unit price".

The realizer, the SQL sampler's canonical texts and the mention check share these functions, so "the question names the column"
means one thing: its humanized name (or the table's singular/plural form) occurs in the text.
"""

from __future__ import annotations

import re

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[\s_\-.]+")
_ES_ENDINGS = ("s", "x", "z", "ch", "sh")
_UNCOUNTABLE = frozenset({"data", "information", "series", "equipment", "staff", "media", "news"})
_SIS_PLURALS = ("diagnoses", "analyses", "theses", "crises", "hypotheses", "syntheses")


def humanize(name: str) -> str:
    """Lower-case words of an identifier: snake_case, CamelCase, spaces and dashes split."""
    spaced = _CAMEL.sub(" ", name)
    words = [w for w in _SEPARATORS.split(spaced) if w]
    return " ".join(w.lower() for w in words) or name.lower()


def plural(noun: str) -> str:
    """A plain English plural of the last word ("order item" -> "order items"); nouns that
    already end in s are taken as plural (most table names are)."""
    head, _, last = noun.rpartition(" ")
    if last in _UNCOUNTABLE:
        word = last
    elif last.endswith("sis"):
        word = last[:-2] + "es"
    elif last.endswith("ss"):
        word = last + "es"
    elif not last or last.endswith("s") or last[-1].isdigit():
        word = last
    elif last.endswith("y") and len(last) > 1 and last[-2] not in "aeiou":
        word = last[:-1] + "ies"
    elif last.endswith(_ES_ENDINGS):
        word = last + "es"
    elif last == "person":
        word = "people"
    else:
        word = last + "s"
    return f"{head} {word}" if head else word


def singular(noun: str) -> str:
    """The inverse of `plural` on the common endings ("categories" -> "category")."""
    head, _, last = noun.rpartition(" ")
    if last.endswith(_SIS_PLURALS):
        word = last[:-2] + "is"
    elif last.endswith("ies") and len(last) > 4:
        word = last[:-3] + "y"
    elif last.endswith(("sses", "shes", "ches", "xes")):
        word = last[:-2]
    elif last.endswith("s") and not last.endswith(("ss", "us", "is")) and len(last) > 3:
        word = last[:-1]
    elif last == "people":
        word = "person"
    else:
        word = last
    return f"{head} {word}" if head else word


def name_forms(name: str) -> tuple[str, ...]:
    """Every form under which a text may name the identifier ``name``."""
    base = humanize(name)
    return tuple(dict.fromkeys((base, plural(base), singular(base))))


def relation_name(fk_column: str, target_table: str, target_column: str = "") -> str:
    """What a foreign key calls its target: ``manager_id`` -> "manager", else the table.

    A key named like the column it references (``roworder`` -> ``indicators.roworder``) says
    nothing about the relation, so the target table names it.
    """
    target = singular(humanize(target_table))
    if target_column and fk_column.lower() == target_column.lower():
        return target
    stem = re.sub(r"(_?id|_?code|_?no|_?key)$", "", fk_column, flags=re.IGNORECASE)
    words = humanize(stem) if stem else ""
    return words if words and words != target and words not in target else target
