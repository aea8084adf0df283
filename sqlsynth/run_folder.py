"""One run, one folder: a run folder records which command and data made it.

Step files are named by step number only, so a ``generate`` in the folder of a ``refine``
would silently replace the refine's steps. Each command claims its folder in a small JSON
file; a later command with another purpose is refused, the same one resumes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlsynth.storage.atomic import write_bytes_atomic

RUN_FILE = "sqlsynth_run.json"

#: each command's own default folder, so no two commands share one by default
DEFAULT_OUT = {
    "generate": "./cache",
    "refine": "./cache_refine",
    "ask": "./cache_ask",
    "eval": "./cache_eval",
}


class RunFolderError(ValueError):
    """The folder belongs to another command or to other data."""


def _describe(identity: dict[str, Any]) -> str:
    shown = {k: v for k, v in identity.items() if v not in ("", None, [])}
    return ", ".join(f"{k}={v}" for k, v in shown.items()) or "defaults"


def read_claim(out: Path) -> dict[str, Any] | None:
    """The folder's recorded ``{"command", "identity"}``, or None when it has none."""
    try:
        data = json.loads((out / RUN_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def claim(out: str | Path, command: str, identity: dict[str, Any]) -> None:
    """Record ``out`` as ``command``'s run over ``identity``; refuse a folder of another run.

    ``identity`` holds what makes a run a different run (the pipeline, the databases, the
    input file); sizes, models and endpoints may change between resumes, since each step's
    fingerprint already decides what is recomputed.
    """
    folder = Path(out)
    identity = json.loads(json.dumps(identity, default=str))
    previous = read_claim(folder)
    if previous is not None:
        recorded = previous.get("identity") or {}
        if previous.get("command") == command and _same_data(recorded, identity):
            if recorded != identity:  # an older claim, maybe with a password: record it anew
                _write(folder, command, identity)
            return
        raise RunFolderError(
            f"{folder} holds a `sqlsynth {previous.get('command')}` run "
            f"({_describe(previous.get('identity') or {})}); this `sqlsynth {command}` "
            f"({_describe(identity)}) would overwrite it: choose another --out, or delete "
            f"{folder} to start over")
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder, command, identity)


def _same_data(recorded: dict[str, Any], identity: dict[str, Any]) -> bool:
    """Whether a recorded identity names the same data; claims written before databases were
    identified (sqlsynth.db.url) hold the ``db`` value as given, a URL with its password."""
    if recorded == identity:
        return True
    db = recorded.get("db")
    if not isinstance(db, str) or not db or db == identity.get("db"):
        return False
    from sqlsynth.db.url import database_identity

    return {**recorded, "db": database_identity(db)} == identity


def _write(folder: Path, command: str, identity: dict[str, Any]) -> None:
    body = {"command": command, "identity": identity}
    write_bytes_atomic(folder / RUN_FILE, (json.dumps(body, indent=1) + "\n").encode("utf-8"))
