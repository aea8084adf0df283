"""The run manifest: which steps finished, with which configuration, and what they produced.

Kept as one small JSON file rewritten atomically after every step, so after a crash it lists
exactly the step files that are complete and may be reused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlsynth.storage.atomic import write_bytes_atomic

MANIFEST_VERSION = 1


class Manifest:
    """Step entries keyed by step number; each has ``fingerprint`` and a ``done`` flag."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.steps: dict[int, dict[str, Any]] = {}
        self.load()

    def load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
            self.steps = {}
            return
        if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
            self.steps = {}
            return
        self.steps = {
            int(entry["step"]): entry
            for entry in data.get("steps", [])
            if isinstance(entry, dict) and "step" in entry
        }

    def save(self) -> None:
        body = {
            "version": MANIFEST_VERSION,
            "steps": [self.steps[k] for k in sorted(self.steps)],
        }
        write_bytes_atomic(self.path, (json.dumps(body, indent=1) + "\n").encode("utf-8"))

    def entry(self, step: int) -> dict[str, Any] | None:
        return self.steps.get(step)

    def is_reusable(self, step: int, fingerprint: str, file: Path) -> bool:
        entry = self.steps.get(step)
        return bool(
            entry
            and entry.get("done") is True
            and entry.get("fingerprint") == fingerprint
            and file.exists()
        )

    def drop_from(self, step: int) -> None:
        """Forget ``step`` and every later one: they will be recomputed."""
        self.steps = {k: v for k, v in self.steps.items() if k < step}

    def put(self, step: int, entry: dict[str, Any]) -> None:
        self.steps[step] = {"step": step, **entry}
