"""The rejects file: one JSON line per dropped row, with the step and the reason.

Lines are appended (and flushed) as rows are dropped, so a killed run still shows why rows
left. When a run (re)starts at step k, lines of steps >= k are removed first: they will be
produced again, so a resumed run never doubles them. At the end of a run the lines of the steps
it ran are rewritten in position order, making the file independent of completion order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from sqlsynth.storage.atomic import write_bytes_atomic
from sqlsynth.storage.formats import strict_json


class RejectsLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: TextIO | None = None
        self._kept: list[str] = []
        self._new: list[tuple[int, tuple[int, ...], str]] = []

    def start(self, first_step: int) -> None:
        """Keep only lines of steps before ``first_step`` and open the file for appending."""
        self.close()
        self._kept = [line for line in self._read_lines() if _step_of(line) < first_step]
        self._new = []
        self._rewrite(self._kept)
        self._handle = self.path.open("a", encoding="utf-8")

    def add(self, step: int, step_name: str, position: tuple[int, ...], reason: str,
            detail: str, row: dict[str, Any], *, with_position: bool = False) -> None:
        """``with_position``: a shard's line also says where the row was, for the merge."""
        record = {"step": step, "step_name": step_name, "reason": reason, "detail": detail,
                  "row": row}
        if with_position:
            record["position"] = list(position)
        line = strict_json(record)
        self._new.append((step, position, line))
        if self._handle is not None:
            self._handle.write(line + "\n")
            self._handle.flush()

    def step_done(self, step: int) -> None:
        """Put ``step``'s lines in position order now, while the run goes on.

        A step's lines are final once the step is done; ordering them at once means a run
        killed later keeps them in the same order as an uninterrupted run would.
        """
        done = sorted((t for t in self._new if t[0] == step), key=lambda t: t[1])
        if not done:
            return
        self.close()
        self._kept += [line for _, _, line in done]
        self._new = [t for t in self._new if t[0] != step]
        self._rewrite(self._kept + [line for _, _, line in self._new])
        self._handle = self.path.open("a", encoding="utf-8")

    def finish(self) -> None:
        """Rewrite this run's lines in (step, position) order."""
        self.close()
        ordered = [line for _, _, line in sorted(self._new, key=lambda t: (t[0], t[1]))]
        self._rewrite(self._kept + ordered)
        self._kept, self._new = self._kept + ordered, []

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def _read_lines(self) -> list[str]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [line for line in text.splitlines() if line.strip()]

    def _rewrite(self, lines: list[str]) -> None:
        write_bytes_atomic(self.path, "".join(line + "\n" for line in lines).encode("utf-8"))


def _step_of(line: str) -> int:
    try:
        return int(json.loads(line)["step"])
    except (ValueError, KeyError, TypeError):
        return 1 << 30  # unreadable (e.g. cut off by a kill): drop it
