"""The encoding knowledge table: phrase -> (table, column, stored value), one file per database.

Entries come from probes that found exactly one stored value and from users' own domain
mappings (e.g. "GDP growth rate" -> macro.roworder = 5). The file is JSONL so appends are
cheap and a crash loses at most the line being written; lines are deduplicated on load.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlsynth.storage.formats import read_numbered_rows

log = logging.getLogger(__name__)

try:  # cross-process append lock where the platform has one
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

REQUIRED_FIELDS = ("keyword", "table", "column", "value")


@dataclass(frozen=True)
class KnowledgeEntry:
    """One mapping from a question phrase to an exact stored value."""

    keyword: str
    db_id: str
    table: str
    column: str
    value: Any
    source: str = "probe"  # "probe" (found by a seed query) or "user" (imported)
    note: str = ""

    def key(self) -> tuple:
        return (self.keyword.casefold().strip(), self.table, self.column, json.dumps(self.value))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def safe_file_stem(db_id: str) -> str:
    """A file name for any db_id; a hash suffix keeps distinct ids distinct after cleaning."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", db_id).strip(".") or "db"
    if cleaned == db_id:
        return cleaned
    return f"{cleaned}-{hashlib.sha1(db_id.encode()).hexdigest()[:8]}"


def _coerce_csv_value(text: str) -> Any:
    """CSV has no types: canonical integers/decimals become numbers, anything else stays text."""
    stripped = text.strip()
    if re.fullmatch(r"-?(0|[1-9]\d*)", stripped):
        return int(stripped)
    if re.fullmatch(r"-?(0|[1-9]\d*)\.\d*[1-9]", stripped):
        return float(stripped)
    return text


class KnowledgeTable:
    """Encoding knowledge of one database, persisted at `<knowledge_dir>/<db_id>.jsonl`."""

    def __init__(self, knowledge_dir: str | os.PathLike[str], db_id: str) -> None:
        self.db_id = db_id
        self.path = Path(knowledge_dir) / f"{safe_file_stem(db_id)}.jsonl"
        self._lock = threading.Lock()
        self._entries: list[KnowledgeEntry] | None = None
        self._keys: set[tuple] = set()

    def entries(self) -> list[KnowledgeEntry]:
        with self._lock:
            return list(self._load())

    def __len__(self) -> int:
        return len(self.entries())

    def _load(self) -> list[KnowledgeEntry]:
        if self._entries is not None:
            return self._entries
        entries: list[KnowledgeEntry] = []
        keys: set[tuple] = set()
        if self.path.exists():
            with self.path.open(encoding="utf-8") as handle:
                for lineno, line in enumerate(handle, 1):
                    if not line.strip():
                        continue
                    try:
                        data = json.loads(line)
                        entry = KnowledgeEntry(**{**data, "db_id": self.db_id})
                    except (json.JSONDecodeError, TypeError) as exc:
                        log.warning("%s:%d: skipped unreadable knowledge line: %s",
                                    self.path, lineno, exc)
                        continue
                    if entry.key() not in keys:
                        keys.add(entry.key())
                        entries.append(entry)
        self._entries, self._keys = entries, keys
        return entries

    def add(self, entries: Iterable[KnowledgeEntry]) -> list[KnowledgeEntry]:
        """Append the entries not already present; returns those actually added."""
        with self._lock:
            self._load()
            fresh: list[KnowledgeEntry] = []
            for entry in entries:
                if entry.db_id != self.db_id:
                    entry = KnowledgeEntry(**{**entry.to_dict(), "db_id": self.db_id})
                if entry.key() in self._keys:
                    continue
                self._keys.add(entry.key())
                fresh.append(entry)
            if fresh:
                self._append(fresh)
                assert self._entries is not None
                self._entries.extend(fresh)
            return fresh

    def _append(self, entries: list[KnowledgeEntry]) -> None:
        """One write call per batch, under an exclusive lock, so lines never interleave."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = "".join(
            json.dumps(e.to_dict(), ensure_ascii=False, default=str) + "\n" for e in entries
        ).encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, payload)
            os.fsync(fd)
        finally:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def import_file(self, path: str | os.PathLike[str]) -> list[KnowledgeEntry]:
        """Add users' mappings from CSV (header row) or JSONL; returns the new entries.

        Fields: keyword, table, column, value, optional note. A bad row raises ValueError
        naming the file, line and field; nothing is added from a file with bad rows.
        """
        return self.add(read_user_entries(path, self.db_id))


def read_user_entries(path: str | os.PathLike[str], db_id: str) -> list[KnowledgeEntry]:
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"knowledge file not found: {file}")
    rows = read_numbered_rows(file)
    if file.suffix.lower() == ".csv":  # CSV cells are text: "5" in a value column means 5
        for _, record in rows:
            if isinstance(record.get("value"), str):
                record["value"] = _coerce_csv_value(record["value"])
    entries = []
    for lineno, record in rows:
        for name in REQUIRED_FIELDS:
            value = record.get(name)
            if value is None or (isinstance(value, str) and not value.strip()):
                raise ValueError(f"{file}:{lineno}: field '{name}' is missing or empty")
        for name in ("keyword", "table", "column"):
            if not isinstance(record[name], str):
                raise ValueError(f"{file}:{lineno}: field '{name}' must be text")  # noqa: TRY004
        if record.get("db_id") not in (None, "", db_id):
            raise ValueError(
                f"{file}:{lineno}: field 'db_id' is {record['db_id']!r}, expected {db_id!r}"
            )
        entries.append(
            KnowledgeEntry(
                keyword=record["keyword"].strip(),
                db_id=db_id,
                table=record["table"].strip(),
                column=record["column"].strip(),
                value=record["value"],
                source="user",
                note=str(record.get("note") or ""),
            )
        )
    return entries


def import_knowledge(
    knowledge_dir: str | os.PathLike[str], db_id: str, path: str | os.PathLike[str]
) -> int:
    """CLI helper: import one mapping file; returns how many new entries were added."""
    return len(KnowledgeTable(knowledge_dir, db_id).import_file(path))


def main(argv: list[str] | None = None) -> int:
    """`python -m sqlsynth.engine.knowledge --knowledge-dir D --db-id X mappings.csv`."""
    parser = argparse.ArgumentParser(description="Import domain mappings into a knowledge table.")
    parser.add_argument("files", nargs="+", help="CSV or JSONL files: keyword,table,column,value")
    parser.add_argument("--knowledge-dir", required=True)
    parser.add_argument("--db-id", required=True)
    args = parser.parse_args(argv)
    for file in args.files:
        added = import_knowledge(args.knowledge_dir, args.db_id, file)
        print(f"{file}: {added} new entries")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
