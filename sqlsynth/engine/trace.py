"""What the engine did, stage by stage, so a wrong answer can be explained afterwards.

Every stage appends plain dicts (JSON-ready) to a `Trace`; nothing in it is needed to compute
the answer, so callers may drop it, log it or store it next to the prediction.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


def _jsonable(value: Any) -> Any:
    """Database cells may be bytes, Decimal, dates...; keep them readable in JSON."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return str(value)


@dataclass
class Trace:
    """The record of one question's way through the three stages."""

    question: str
    db_id: str
    evidence: str = ""
    # stage 1: keyword extraction and fuzzy detection
    keyword_prompt: list[dict] = field(default_factory=list)
    keyword_response: str | None = None
    content_keywords: list[dict] = field(default_factory=list)
    schema_keywords: list[str] = field(default_factory=list)
    dropped: list[dict] = field(default_factory=list)  # unknown tables/columns, bad output
    variants: list[dict] = field(default_factory=list)  # per keyword: prompt, response, values
    probes: list[dict] = field(default_factory=list)  # SQL, source, outcome, values
    # stage 2: knowledge retrieval and alignment
    knowledge_added: list[dict] = field(default_factory=list)
    knowledge_discarded: list[dict] = field(default_factory=list)
    knowledge_chosen: list[dict] = field(default_factory=list)
    value_hints: list[dict] = field(default_factory=list)  # fuzzy index matches, unconfirmed
    # stage 3: generation and revision
    attempts: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # what was changed to make the prompts fit (e.g. tables pruned from the schema)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return json.loads(self.to_json())

    def to_json(self, **kw: Any) -> str:
        return json.dumps(asdict(self), default=_jsonable, ensure_ascii=False, **kw)


@dataclass
class EngineAnswer:
    """The engine's final SQL, its rows, and how it got there.

    `status` is "ok" (rows returned), "empty" (ran, no rows after all revisions), "no_sql" (the
    model never produced a statement), "unknown_db", or the `ExecStatus` value of the last
    failure ("syntax_error", "runtime_error", "timeout", "forbidden", "too_large").
    """

    sql: str | None
    columns: tuple[str, ...]
    rows: tuple[tuple, ...]
    status: str
    trace: Trace

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return {
            "sql": self.sql,
            "columns": list(self.columns),
            "rows": json.loads(json.dumps([list(r) for r in self.rows], default=_jsonable)),
            "status": self.status,
            "trace": self.trace.to_dict(),
        }

    def to_json(self, **kw: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kw)
