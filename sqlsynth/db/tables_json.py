"""A `Schema` from one entry of Spider's ``tables.json``, for SQL whose database file is absent.

Spider publishes schemas without the databases for some splits; the realizer and other pure
SQL tools need only names, types and keys, which ``tables.json`` has.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlsynth.db.schema import Column, ForeignKey, Schema, Table


def schema_from_tables_json(entry: Mapping[str, Any]) -> Schema:
    """The schema of one ``tables.json`` entry, with the original table and column names."""
    names = entry["table_names_original"]
    columns: list[list[Column]] = [[] for _ in names]
    index: dict[int, tuple[int, str]] = {}
    for i, ((table_id, name), kind) in enumerate(
            zip(entry["column_names_original"], entry["column_types"])):
        if table_id < 0:
            continue
        columns[table_id].append(Column(name, kind.upper()))
        index[i] = (table_id, name)
    primary: list[list[str]] = [[] for _ in names]
    for key in entry.get("primary_keys", []):
        for column_id in key if isinstance(key, list) else [key]:
            table_id, name = index[column_id]
            primary[table_id].append(name)
    foreign: list[list[ForeignKey]] = [[] for _ in names]
    for source, target in entry.get("foreign_keys", []):
        (table_id, name), (ref_id, ref_name) = index[source], index[target]
        foreign[table_id].append(ForeignKey([name], names[ref_id], [ref_name]))
    tables = [Table(n, columns[i], primary[i], foreign[i]) for i, n in enumerate(names)]
    return Schema(db_id=entry["db_id"], tables=tables, dialect="sqlite")


def load_tables_json(path: str | Path) -> dict[str, Schema]:
    """Every schema of a ``tables.json`` file, by ``db_id``."""
    entries = json.loads(Path(path).read_text(encoding="utf-8"))
    return {e["db_id"]: schema_from_tables_json(e) for e in entries}
