"""A run's ``final.jsonl``: the last finished step's rows, in the reference's field order.

Input fields a refined row no longer agrees with (Spider's ``query``/``query_toks``/``sql``/
``question_toks``, BIRD's ``difficulty``) are rewritten or left out (``final_row``).

Written at the end of every run (and after ``merge``); read by export, the viewer and the
data card. It lives in storage because it only reads step files and writes one file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlsynth.source_fields import consistent_source_fields
from sqlsynth.storage.atomic import write_bytes_atomic
from sqlsynth.storage.formats import read_rows, strict_json

#: the reference's documented output fields, in its order; other input fields follow
FINAL_FIELDS = [
    "db_id", "question", "question_type", "evidence", "SQL", "sql_variation_type",
    "sql_complexity_type", "prompt", "cot_reasoning", "sql_component_difficulty",
    "sql_execution_difficulty",
]
FINAL_FILE = "final.jsonl"


def last_step_file(out: Path, prefix: str, cache_type: str) -> Path | None:
    """The highest-numbered step file of a run folder."""
    pattern = re.compile(rf"^{re.escape(prefix)}_step(\d+)\.{re.escape(cache_type)}$")
    steps = [(int(m.group(1)), p) for p in out.glob("*") if (m := pattern.match(p.name))]
    return max(steps)[1] if steps else None


def order_fields(row: dict[str, Any]) -> dict[str, Any]:
    """Reference fields first, in the reference's order, then every other field the row had."""
    ordered = {k: row[k] for k in FINAL_FIELDS if k in row}
    ordered.update({k: v for k, v in row.items() if k not in ordered})
    return ordered


def final_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row as ``final.jsonl`` and exports hold it: dataset fields that no longer agree with
    its SQL or question left out or rewritten (``sqlsynth.source_fields``), fields ordered."""
    return order_fields(consistent_source_fields(row))


def write_final(out: Path, prefix: str, cache_type: str) -> Path:
    """``final.jsonl``: the last finished step's rows, reference fields first, strict JSON."""
    last = last_step_file(out, prefix, cache_type)
    rows = read_rows(last) if last else []
    final = out / FINAL_FILE
    # strict JSON (no NaN/Infinity), through a temporary file the next run removes if killed
    (out / "final.tmp").unlink(missing_ok=True)  # left by versions that wrote it directly
    body = "".join(strict_json(final_row(row)) + "\n" for row in rows)
    write_bytes_atomic(final, body.encode("utf-8"))
    return final
