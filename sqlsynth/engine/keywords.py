"""Reading the model's JSON replies and checking them against the real schema.

The model may invent tables or columns, mangle the format or add prose; everything unusable is
dropped here with a reason so the trace shows what was lost.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_-]*)[ \t]*\n(.*?)```", re.DOTALL)


def parse_json_reply(text: str | None) -> Any:
    """The last fenced block that parses as JSON, else the first {...} span; ValueError if none."""
    if not text:
        raise ValueError("empty reply")
    blocks = [body for _lang, body in _FENCE.findall(text)]
    for body in reversed(blocks):
        try:
            return json.loads(body)
        except json.JSONDecodeError:
            continue
    start, end = text.find("{"), text.rfind("}")
    if start != -1 and end > start:
        try:
            return json.loads(text[start : end + 1])
        except json.JSONDecodeError:
            pass
    raise ValueError("no JSON object found in the reply")


@dataclass(frozen=True)
class ContentKeyword:
    """A phrase naming a stored value, with the table and columns to search it in."""

    keyword: str
    table: str
    columns: tuple[str, ...]


@dataclass
class KeywordPlan:
    content: list[ContentKeyword] = field(default_factory=list)
    schema: list[str] = field(default_factory=list)
    dropped: list[dict] = field(default_factory=list)


def _lookup(names: dict[str, str], name: str) -> str | None:
    """Exact name first, then case-insensitive (models often change the case)."""
    if name in names.values():
        return name
    return names.get(name.casefold())


def validate_keywords(
    payload: Any, tables: dict[str, list[str]], *, max_columns: int = 4
) -> KeywordPlan:
    """Keep keywords whose table exists and at least one of whose columns exists.

    `tables` maps each real table name to its column names.
    """
    plan = KeywordPlan()
    if not isinstance(payload, dict):
        plan.dropped.append({"item": payload, "reason": "reply is not a JSON object"})
        return plan
    table_names = {t.casefold(): t for t in tables}
    seen: set[str] = set()
    raw_content = payload.get("content_keywords") or []
    if not isinstance(raw_content, list):
        plan.dropped.append({"item": raw_content, "reason": "content_keywords is not a list"})
        raw_content = []
    for item in raw_content:
        if not isinstance(item, dict):
            plan.dropped.append({"item": item, "reason": "keyword entry is not an object"})
            continue
        keyword = item.get("keyword")
        if not isinstance(keyword, str) or not keyword.strip():
            plan.dropped.append({"item": item, "reason": "missing keyword"})
            continue
        keyword = keyword.strip()
        table = _lookup(table_names, str(item.get("table") or ""))
        if table is None:
            plan.dropped.append({"item": item, "reason": f"unknown table {item.get('table')!r}"})
            continue
        col_names = {c.casefold(): c for c in tables[table]}
        raw_cols = item.get("columns") or []
        if isinstance(raw_cols, str):
            raw_cols = [raw_cols]
        columns: list[str] = []
        for raw in raw_cols if isinstance(raw_cols, list) else []:
            col = _lookup(col_names, str(raw).split(".")[-1])
            if col is None:
                plan.dropped.append(
                    {"item": {"keyword": keyword, "table": table, "column": raw},
                     "reason": f"unknown column {raw!r} in table {table!r}"}
                )
            elif col not in columns:
                columns.append(col)
        if not columns:
            plan.dropped.append({"item": item, "reason": "no known candidate column"})
            continue
        if len(columns) > max_columns:
            plan.dropped.append(
                {"item": {"keyword": keyword, "columns": columns[max_columns:]},
                 "reason": f"more than {max_columns} candidate columns"}
            )
            columns = columns[:max_columns]
        key = keyword.casefold() + "\x00" + table
        if key in seen:
            plan.dropped.append({"item": item, "reason": "duplicate keyword"})
            continue
        seen.add(key)
        plan.content.append(ContentKeyword(keyword, table, tuple(columns)))
    raw_schema = payload.get("schema_keywords") or []
    if isinstance(raw_schema, list):
        plan.schema = [str(s) for s in raw_schema if isinstance(s, (str, int, float))]
    return plan


def validate_variants(payload: Any, keyword: str, k: int) -> tuple[list[str], list[dict]]:
    """Up to k distinct non-empty strings; the keyword itself is always probed too."""
    dropped: list[dict] = []
    values = payload.get("values") if isinstance(payload, dict) else payload
    if not isinstance(values, list):
        return [keyword], [{"item": payload, "reason": "no 'values' list in the reply"}]
    out: list[str] = []
    for value in values:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            dropped.append({"item": value, "reason": "not a non-empty string"})
            continue
        if value in out:
            continue
        if len(out) >= k:
            dropped.append({"item": value, "reason": f"more than {k} proposals"})
            continue
        out.append(value)
    if keyword not in out:
        out.append(keyword)
    return out, dropped
