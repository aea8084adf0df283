"""Search, filter, sort and page the rows and rejects the viewer lists (pure functions)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlsynth.viewer.summary import DIFFICULTY_ORDER

#: sort names the viewer offers -> the row field they sort by
SORTS = {
    "file": None,
    "db": "db_id",
    "question": "question",
    "difficulty": "sql_component_difficulty",
    "execution": "sql_execution_difficulty",
    "style": "question_type",
}


def _text_of(row: Mapping[str, Any]) -> str:
    return " ".join(str(row.get(k, "")) for k in ("question", "evidence", "SQL", "db_id")).lower()


def _sort_key(field: str, row: Mapping[str, Any]) -> tuple:
    value = row.get(field)
    if field.endswith("difficulty") and value in DIFFICULTY_ORDER:
        return (0, DIFFICULTY_ORDER.index(value), "")
    return (1 if value is None else 0, 0, str(value if value is not None else "").lower())


def select_rows(rows: list[tuple[int, dict[str, Any]]], params: Mapping[str, str],
                marks: Mapping[str, dict[str, Any]], keys: Mapping[int, str]
                ) -> list[tuple[int, dict[str, Any]]]:
    """``rows`` as (index, row), kept by the filters in ``params``, in the asked order.

    Filters: ``q`` (words that must all appear in question, evidence, SQL or database),
    ``db``, ``difficulty`` (component), ``execution`` (execution difficulty), ``style``
    (question type), ``review`` (accept / reject / unmarked). ``sort`` is one of
    :data:`SORTS`; ``desc=1`` reverses.
    """
    words = [w for w in str(params.get("q", "")).lower().split() if w]
    wanted = {k: params.get(p) for k, p in (("db_id", "db"),
                                            ("sql_component_difficulty", "difficulty"),
                                            ("sql_execution_difficulty", "execution"),
                                            ("question_type", "style")) if params.get(p)}
    review = params.get("review") or ""
    out = []
    for index, row in rows:
        if any(str(row.get(k)) != v for k, v in wanted.items()):
            continue
        if words and not all(w in _text_of(row) for w in words):
            continue
        if review:
            mark = marks.get(keys[index])
            status = mark["status"] if mark else "unmarked"
            if status != review:
                continue
        out.append((index, row))
    field = SORTS.get(str(params.get("sort") or "file"))
    if field:
        out.sort(key=lambda item: _sort_key(field, item[1]))
    if params.get("desc") in ("1", "true"):
        out.reverse()
    return out


def select_rejects(rejects: list[dict[str, Any]], params: Mapping[str, str]
                   ) -> list[dict[str, Any]]:
    """Rejects kept by ``step``, ``reason``, ``db`` and the words of ``q`` (row and detail)."""
    words = [w for w in str(params.get("q", "")).lower().split() if w]
    out = []
    for rej in rejects:
        if params.get("step") and str(rej.get("step")) != params["step"]:
            continue
        if params.get("reason") and str(rej.get("reason")) != params["reason"]:
            continue
        row = rej.get("row") if isinstance(rej.get("row"), dict) else {}
        if params.get("db") and str(row.get("db_id")) != params["db"]:
            continue
        if words:
            text = (_text_of(row) + " " + str(rej.get("detail", ""))).lower()
            if not all(w in text for w in words):
                continue
        out.append(rej)
    return out
