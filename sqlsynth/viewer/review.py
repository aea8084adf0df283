"""A reviewer's marks on final rows: accept or reject, with a note, kept in ``review.jsonl``.

One line per marked row, keyed by :func:`~sqlsynth.viewer.run_folder.row_key`; the file is
rewritten whole through a temporary file, so a crash never leaves half a mark. ``export``
drops rows marked ``reject`` and may keep the marks as a ``review`` field.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlsynth.storage.atomic import write_bytes_atomic
from sqlsynth.viewer.run_folder import REVIEW_FILE, _read_jsonl, row_key

STATUSES = ("accept", "reject")


class ReviewMarks:
    """The marks of one run folder; thread-safe, every change saved at once."""

    def __init__(self, folder: str | Path) -> None:
        self.path = Path(folder) / REVIEW_FILE
        self._lock = threading.Lock()
        self.marks: dict[str, dict[str, Any]] = {}
        for line in _read_jsonl(self.path):
            if isinstance(line.get("key"), str) and line.get("status") in STATUSES:
                self.marks[line["key"]] = line

    def get(self, key: str) -> dict[str, Any] | None:
        return self.marks.get(key)

    def set(self, row: dict[str, Any], status: str | None, note: str = "") -> dict[str, Any] | None:
        """Mark ``row`` (``status`` None clears its mark); returns the stored mark."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)} or null, got {status!r}")
        key = row_key(row)
        with self._lock:
            if status is None:
                self.marks.pop(key, None)
                mark = None
            else:
                mark = {"key": key, "status": status, "note": str(note or ""),
                        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                        "db_id": row.get("db_id"), "question": row.get("question")}
                self.marks[key] = mark
            body = "".join(json.dumps(m, ensure_ascii=False) + "\n" for m in self.marks.values())
            write_bytes_atomic(self.path, body.encode("utf-8"))
        return mark

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for mark in self.marks.values():
            out[mark["status"]] += 1
        return out


def apply_review(rows: Iterable[dict[str, Any]], folder: str | Path, *, keep_marks: bool = False
                 ) -> tuple[list[dict[str, Any]], int]:
    """``rows`` less those the reviewer rejected; with ``keep_marks`` each kept row that was
    marked gets ``review: {status, note}``. Returns the rows and how many were dropped."""
    marks = ReviewMarks(folder)
    kept, dropped = [], 0
    for row in rows:
        mark = marks.get(row_key(row))
        if mark is not None and mark["status"] == "reject":
            dropped += 1
            continue
        if keep_marks and mark is not None:
            row = {**row, "review": {"status": mark["status"], "note": mark.get("note", "")}}
        kept.append(row)
    return kept, dropped
