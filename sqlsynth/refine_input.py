"""The rows ``refine`` starts from, as users have them: ours, Spider's or BIRD's files.

Spider names the SQL ``query``, BIRD ``SQL`` (with ``evidence``); other files use their own
names, which ``--map SOURCE=TARGET`` maps (the source field is then left out of the rows, since
the pipeline may rewrite the value; Spider's ``query`` stays, kept equal to the row's SQL). Rows are checked here, before any LLM call: a
missing field is named with its file and line, and a file whose rows all name databases that
are not there is an error rather than a run with 0 rows.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from sqlsynth.errors import InputFormatError
from sqlsynth.source_fields import SQL_ALIASES
from sqlsynth.storage.atomic import write_bytes_atomic

#: the fields the refine pipeline reads
PIPELINE_FIELDS = ("db_id", "SQL", "question", "evidence")
REQUIRED_FIELDS = ("db_id", "SQL")
#: other names a field has in public datasets (Spider: query; lower-case variants)
ALIASES = {"SQL": ("query", "sql"), "db_id": ("database", "db")}
PREPARED_FILE = "refine_input.jsonl"


def _stays(source: str, target: str) -> bool:
    """Whether a mapped source field stays beside its target: the database's other names do
    (the database never changes), and so does a public alias of the SQL (Spider's ``query``),
    which final rows keep equal to the SQL (``sqlsynth.source_fields``)."""
    return target == "db_id" or (target == "SQL" and source in SQL_ALIASES)


def parse_field_map(items: list[str]) -> dict[str, str]:
    """``["query=SQL"]`` -> ``{"query": "SQL"}`` (source field -> pipeline field).

    Either side may name the pipeline field (``SQL=query`` is read the same way).
    """
    mapping: dict[str, str] = {}
    for item in items:
        left, sep, right = item.partition("=")
        left, right = left.strip(), right.strip()
        if not sep or not left or not right:
            raise ValueError(f"--map {item!r}: expected SOURCE=TARGET, e.g. query=SQL")
        if right in PIPELINE_FIELDS:
            mapping[left] = right
        elif left in PIPELINE_FIELDS:
            mapping[right] = left
        else:
            raise ValueError(f"--map {item!r}: one side must be a field refine reads "
                             f"({', '.join(PIPELINE_FIELDS)})")
    return mapping


def _auto_map(rows: list[tuple[int, dict[str, Any]]]) -> dict[str, str]:
    """Aliases used when no row has the pipeline's name but rows have a known other one."""
    mapping: dict[str, str] = {}
    for target, names in ALIASES.items():
        if any(target in row for _, row in rows):
            continue
        for name in names:
            if any(isinstance(row.get(name), str) for _, row in rows):
                mapping[name] = target
                break
    return mapping


def prepare_refine_input(path: Path, out: Path, databases: list[str],
                         field_map: dict[str, str] | None = None, *,
                         db_label: str = "--db") -> tuple[Path, list[str]]:
    """Check (and when fields are renamed, rewrite) the input; returns the file to read and
    notes for the user. Raises ``InputFormatError`` naming file, line and field."""
    from sqlsynth.storage import read_numbered_rows

    rows = read_numbered_rows(path)
    if not rows:
        raise InputFormatError(path, "no rows to refine")
    mapping = dict(field_map or {}) or _auto_map(rows)
    notes = [f"reading field {src!r} as {dst!r}" + ("" if _stays(src, dst) else
                                                    f" (the output names it {dst!r} only)")
             for src, dst in mapping.items()]
    prepared: list[dict[str, Any]] = []
    for line, row in rows:
        new = dict(row)
        for src, dst in mapping.items():
            if src in row:
                new[dst] = row[src]
                if not _stays(src, dst):
                    # another name of a value the pipeline may rewrite would go stale
                    new.pop(src)
        for key in REQUIRED_FIELDS:
            value = new.get(key)
            if not isinstance(value, str) or not value.strip():
                hint = "" if mapping or key != "SQL" else \
                    " (its name in your file? map it with --map FIELD=SQL)"
                raise InputFormatError(path, f"required field is missing or empty{hint}",
                                       line=line, field=key)
        prepared.append(new)
    known = set(databases)
    unknown = Counter(r["db_id"] for r in prepared if r["db_id"] not in known)
    if unknown and sum(unknown.values()) == len(prepared):
        named = ", ".join(sorted(unknown)[:5])
        raise InputFormatError(path, f"no row names a database of {db_label}: the rows name "
                               f"{named}; available: {', '.join(databases) or 'none'} (set --db)",
                               field="db_id")
    if unknown:
        notes.append(f"{sum(unknown.values())} of {len(prepared)} rows name databases that are "
                     f"not there ({', '.join(sorted(unknown)[:5])}); step 1 drops them")
    if not mapping:
        return path, notes
    out.mkdir(parents=True, exist_ok=True)
    target = out / PREPARED_FILE
    write_bytes_atomic(target, "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n"
                                       for r in prepared).encode("utf-8"))
    return target, notes
