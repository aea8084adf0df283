"""A public benchmark read from the files it ships as: Spider/BIRD ``dev.json`` (or any JSON /
JSONL list of ``{question, query|SQL, db_id}``), its ``tables.json`` and its gold SQL file.

sqlsynth ships no benchmark text: the user points at the files they have.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlsynth.errors import InputFormatError

#: what a benchmark folder is searched for, in order
ITEM_FILES = ("dev.json", "test.json", "validation.json", "dev.jsonl", "test.jsonl")
TABLE_FILES = ("tables.json", "dev_tables.json", "test_tables.json")
GOLD_FILES = ("dev_gold.sql", "dev.sql", "test_gold.sql", "test.sql")
SQL_FIELDS = ("query", "SQL", "sql", "gold_sql")
ID_FIELDS = ("question_id", "instance_id", "id")


@dataclass(frozen=True)
class BenchmarkItem:
    item_id: str
    db_id: str | None
    question: str | None
    sql: str | None


@dataclass
class Benchmark:
    """Items plus, when a ``tables.json`` was found, each database's ``table.column`` names."""

    name: str
    items: list[BenchmarkItem]
    schemas: dict[str, frozenset[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


def _records(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        out = []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise InputFormatError(path, f"not valid JSON ({exc.msg})",
                                           line=number) from exc
        return out
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFormatError(path, f"not valid JSON ({exc.msg})", line=exc.lineno) from exc
    if not isinstance(data, list):
        raise InputFormatError(path, "expected a JSON list of benchmark items", line=1)
    return data


def _items(path: Path) -> list[BenchmarkItem]:
    items = []
    for position, record in enumerate(_records(path)):
        if not isinstance(record, dict):
            raise InputFormatError(path, f"item {position} is not an object")
        sql = next((record[k] for k in SQL_FIELDS if isinstance(record.get(k), str)), None)
        ident = next((record[k] for k in ID_FIELDS if record.get(k) is not None), None)
        items.append(BenchmarkItem(
            item_id=str(ident) if ident is not None else f"{path.name}#{position}",
            db_id=record.get("db_id"), question=record.get("question"), sql=sql))
    return items


def _gold_items(path: Path) -> list[BenchmarkItem]:
    """``SQL<TAB>db_id`` lines, the format Spider's and BIRD's evaluation scripts read."""
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        sql, _, db_id = line.rpartition("\t")
        items.append(BenchmarkItem(item_id=f"{path.name}:{number}", db_id=db_id or None,
                                   question=None, sql=sql if sql else line))
    return items


def schema_columns(entry: dict) -> frozenset[str]:
    """``table.column`` names (lower case) of one ``tables.json`` entry."""
    tables = entry.get("table_names_original") or entry.get("table_names") or []
    columns = entry.get("column_names_original") or entry.get("column_names") or []
    return frozenset(f"{str(tables[t]).lower()}.{str(c).lower()}" for t, c in columns
                     if isinstance(t, int) and 0 <= t < len(tables))


def load_benchmark(path: str | Path, name: str | None = None) -> Benchmark:
    """A benchmark from a folder (``dev.json`` + ``tables.json``, else the gold SQL file) or
    from one items file (``.json``/``.jsonl``, or a gold ``.sql`` file)."""
    where = Path(path)
    if not where.exists():
        raise FileNotFoundError(f"benchmark not found: {where}")
    folder = where if where.is_dir() else where.parent
    label = name or (where.name if where.is_dir() else f"{folder.name}/{where.stem}")
    files: list[Path] = []
    if where.is_dir():
        found = next((folder / f for f in ITEM_FILES if (folder / f).is_file()), None)
        found = found or next((folder / f for f in GOLD_FILES if (folder / f).is_file()), None)
        if found is None:
            raise FileNotFoundError(f"{where} has none of {', '.join(ITEM_FILES + GOLD_FILES)}")
        where = found
    items = _gold_items(where) if where.suffix == ".sql" else _items(where)
    files.append(str(where))
    schemas: dict[str, frozenset[str]] = {}
    tables = next((folder / f for f in TABLE_FILES if (folder / f).is_file()), None)
    if tables is not None:
        for entry in _records(tables):
            if isinstance(entry, dict) and entry.get("db_id"):
                schemas[str(entry["db_id"])] = schema_columns(entry)
        files.append(str(tables))
    return Benchmark(name=label, items=items, schemas=schemas, files=files)


__all__ = ["Benchmark", "BenchmarkItem", "load_benchmark", "schema_columns"]
