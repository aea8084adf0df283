"""The attack corpus: every `*.jsonl` file in `hostile_corpus/`, one attack per line.

A line is {"name", "dialects": [subset of sqlite, mysql, postgres], "sql", "expect", "why"}
and optionally "class" (the family it belongs to; default: the file's name):
`expect` is "refused" (must not run: the guard or the engine says no), "limited" (must be
stopped by the time limit or the size cap) or "any" (may run; what counts is that it changes
nothing). `{evil}` in the SQL stands for a path that must never appear on disk. Tests and
`bench/hostile.py` run every attack on every engine it names; several files (one per concern)
are read alike, so adding attacks is adding lines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlsynth.errors import InputFormatError

CORPUS_DIR = Path(__file__).with_name("hostile_corpus")
DIALECTS = ("sqlite", "mysql", "postgres")
EXPECTATIONS = ("refused", "limited", "any")
EVIL = "{evil}"


@dataclass(frozen=True)
class Attack:
    name: str
    dialects: tuple[str, ...]
    sql: str
    expect: str
    why: str
    source: str  # file:line, for messages
    #: the family it belongs to, for per-class figures: its ``class`` field, else its file
    kind: str = ""

    def sql_for(self, evil_path: str) -> str:
        return self.sql.replace(EVIL, evil_path)


def _attack(path: Path, line_no: int, text: str) -> Attack:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFormatError(path, f"not JSON: {exc}", line=line_no) from None
    if not isinstance(data, dict):
        raise InputFormatError(path, "expected a JSON object", line=line_no)
    for key in ("name", "sql", "expect", "why"):
        if not isinstance(data.get(key), str):
            raise InputFormatError(path, "missing or not a string", line=line_no, field=key)
    dialects = data.get("dialects")
    if (
        not isinstance(dialects, list)
        or not dialects
        or any(d not in DIALECTS for d in dialects)
    ):
        raise InputFormatError(
            path, f"must be a non-empty list of {', '.join(DIALECTS)}", line=line_no,
            field="dialects",
        )
    if data["expect"] not in EXPECTATIONS:
        raise InputFormatError(
            path, f"must be one of {', '.join(EXPECTATIONS)}", line=line_no, field="expect"
        )
    return Attack(
        name=data["name"],
        dialects=tuple(dialects),
        sql=data["sql"],
        expect=data["expect"],
        why=data["why"],
        source=f"{path.name}:{line_no}",
        kind=str(data.get("class") or path.stem),
    )


def load_corpus(folder: str | Path | None = None) -> list[Attack]:
    """All attacks of all `*.jsonl` files in `folder` (default: the bundled corpus)."""
    folder = Path(folder) if folder is not None else CORPUS_DIR
    attacks: list[Attack] = []
    for path in sorted(folder.glob("*.jsonl")):
        seen: dict[str, str] = {}  # names are unique within a file
        with path.open(encoding="utf-8") as handle:
            for line_no, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                attack = _attack(path, line_no, text)
                if attack.name in seen:
                    raise InputFormatError(
                        path, f"duplicate name (first at {seen[attack.name]})", line=line_no,
                        field="name",
                    )
                seen[attack.name] = attack.source
                attacks.append(attack)
    return attacks


def attacks_for(dialect: str, folder: str | Path | None = None) -> list[Attack]:
    return [a for a in load_corpus(folder) if dialect in a.dialects]
