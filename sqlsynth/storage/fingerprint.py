"""Stable fingerprints of operator configurations, for deciding whether a step can be reused.

An operator may define ``config_fingerprint() -> object`` (JSON-able) to say exactly what
matters. Otherwise its public attributes are described: plain values in full, and objects it
holds (LLM clients, database managers, prompt templates) by class name plus their own plain
public values, one level deep. Private attributes and nested objects (caches, usage counters)
are left out so that state which changes while running never invalidates a finished step.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

_PLAIN = (str, int, float, bool, type(None))


def _plain(value: Any) -> Any:
    """``value`` if it is built only from JSON scalars, lists and dicts; otherwise ``None``."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, (list, tuple)):
        items = [_plain(v) for v in value]
        return items if all(i is not None or v is None for i, v in zip(items, value)) else None
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _plain(v) for k, v in sorted(value.items())}
    return None


def _public_attrs(obj: Any) -> dict[str, Any]:
    try:
        attrs = vars(obj)
    except TypeError:
        return {}
    return {k: v for k, v in attrs.items() if not k.startswith("_")}


def _describe_member(value: Any) -> Any:
    plain = _plain(value)
    if plain is not None or value is None:
        return plain
    summary: dict[str, Any] = {"__class__": type(value).__qualname__}
    # settings that say how, not what, a member computes (e.g. a memory cap read off the
    # machine at start) must not make a rerun redo finished steps
    excluded = getattr(value, "fingerprint_exclude", ())
    for key, attr in sorted(_public_attrs(value).items()):
        if isinstance(attr, _PLAIN) and key not in excluded:
            summary[key] = attr
    if callable(getattr(value, "list_databases", None)):
        summary["__databases__"] = _database_identity(value)
    return summary


def _database_identity(manager: Any) -> Any:
    """Which databases a database manager serves: its connection settings and the selected
    db_ids. Pointing a rerun at another folder or server, or selecting other db_ids, must
    redo the steps, though no plain attribute of the manager says so."""
    try:
        listed = [str(db_id) for db_id in manager.list_databases()]
    except Exception as exc:  # noqa: BLE001 - an unreachable server: nothing can be reused
        listed = [f"unavailable:{type(exc).__name__}"]
    return {"config": _plain(getattr(manager, "config", None)), "databases": listed}


def describe_operator(op: Any) -> Any:
    """A JSON-able description of everything about ``op`` that decides its output."""
    custom = getattr(op, "config_fingerprint", None)
    if callable(custom):
        return {"__class__": type(op).__qualname__, "config": custom()}
    described = {k: _describe_member(v) for k, v in sorted(_public_attrs(op).items())}
    return {"__class__": f"{type(op).__module__}.{type(op).__qualname__}", **described}


def digest(*parts: Any) -> str:
    payload = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def file_digest(path: Any) -> str:
    """Content hash of a file (``"absent"`` when it does not exist)."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                h.update(block)
    except FileNotFoundError:
        return "absent"
    return h.hexdigest()
