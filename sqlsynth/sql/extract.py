"""Pull the SQL out of an LLM answer.

Models explain before and after their answer and often show a draft first, so the answer is
the *last* fenced block; a ```sql tag wins over other tags because models also fence
schemas, results and plans.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"```(.*?)```", re.DOTALL)
_TAG = re.compile(r"[A-Za-z0-9_+.-]*")


def _clean(body: str) -> str:
    return body.strip().rstrip(";").rstrip()


def _split_fence(content: str) -> tuple[str, str]:
    """(tag, body) of one fenced block; the info string is a single word on the fence line."""
    if "\n" in content:
        info, body = content.split("\n", 1)
        if _TAG.fullmatch(info.strip()):
            return info.strip().lower(), body
        return "", content
    head, _, rest = content.strip().partition(" ")
    if head.lower() == "sql" and rest:
        return "sql", rest
    return "", content


def extract_sql(text: str | None) -> str | None:
    """The last non-empty fenced ```sql block (tag case-insensitive), else the last non-empty
    fenced block of any tag, stripped and without trailing semicolons; None when there is none.
    """
    if not text:
        return None
    tagged: str | None = None
    any_tag: str | None = None
    for match in _FENCE.finditer(text):
        tag, raw = _split_fence(match.group(1))
        body = _clean(raw)
        if not body:
            continue
        any_tag = body
        if tag == "sql":
            tagged = body
    return tagged if tagged is not None else any_tag
