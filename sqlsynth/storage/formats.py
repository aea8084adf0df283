"""Readers and atomic writers for row files: jsonl, json, csv and parquet.

Readers return ``(line, row)`` pairs so a bad value can be reported with the line it came from;
writers always go through a temporary file, ``fsync`` and ``os.replace``, so a step file either
exists complete or not at all (a killed run never leaves half a step behind).
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlsynth.storage.errors import InputFormatError

Row = dict[str, Any]
NumberedRow = tuple[int, Row]

FORMATS = ("jsonl", "json", "csv", "parquet")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv",
             ".parquet": "parquet", ".pq": "parquet"}


def format_for(path: str | os.PathLike[str], default: str = "jsonl") -> str:
    """The row format a file name implies, or ``default`` when the suffix says nothing."""
    return _SUFFIXES.get(Path(path).suffix.lower(), default)


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown cache_type {fmt!r}; expected one of {', '.join(FORMATS)}")
    return fmt


# ----------------------------------------------------------------------------------- reading


def read_rows(path: str | os.PathLike[str], fmt: str | None = None) -> list[Row]:
    """All rows of a file (format from its suffix unless given); absent or empty means none."""
    return [row for _, row in read_numbered_rows(path, fmt)]


def read_numbered_rows(path: str | os.PathLike[str], fmt: str | None = None) -> list[NumberedRow]:
    """All rows of a file with their 1-based line numbers; an absent or empty file has none."""
    p = Path(path)
    if not p.exists():
        return []
    fmt = check_format(fmt or format_for(p))
    if fmt == "parquet":
        return _read_parquet(p)
    data = p.read_bytes()
    if not data.strip():
        return []
    text = _decode(p, data)
    if fmt == "jsonl":
        return _read_jsonl(p, text)
    if fmt == "json":
        return _read_json(p, text)
    return _read_csv(p, text)


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputFormatError(
            str(path),
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at column {column})",
            line=line,
        ) from None


def _require_object(path: Path, line: int, value: Any) -> Row:
    if not isinstance(value, dict):
        raise InputFormatError(
            str(path), f"expected a JSON object, got {type(value).__name__}", line=line
        )
    return value


def _read_jsonl(path: Path, text: str) -> list[NumberedRow]:
    rows: list[NumberedRow] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InputFormatError(
                str(path), f"malformed JSON ({exc.msg} at column {exc.colno})", line=number
            ) from None
        rows.append((number, _require_object(path, number, value)))
    return rows


def _read_json(path: Path, text: str) -> list[NumberedRow]:
    """A JSON array of objects, decoded item by item so each item keeps its line number."""
    decoder = json.JSONDecoder()

    def line_of(offset: int) -> int:
        return text.count("\n", 0, offset) + 1

    def skip_space(pos: int) -> int:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        return pos

    pos = skip_space(0)
    if pos >= len(text) or text[pos] != "[":
        raise InputFormatError(str(path), "expected a JSON array of objects", line=line_of(pos))
    rows: list[NumberedRow] = []
    pos = skip_space(pos + 1)
    if pos < len(text) and text[pos] == "]":
        return rows
    while True:
        start = pos
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise InputFormatError(
                str(path), f"malformed JSON ({exc.msg})", line=exc.lineno
            ) from None
        rows.append((line_of(start), _require_object(path, line_of(start), value)))
        pos = skip_space(pos)
        if pos < len(text) and text[pos] == ",":
            pos = skip_space(pos + 1)
            continue
        if pos < len(text) and text[pos] == "]":
            if skip_space(pos + 1) != len(text):
                raise InputFormatError(str(path), "text after the JSON array", line=line_of(pos))
            return rows
        raise InputFormatError(str(path), "malformed JSON array (expected ',' or ']')",
                               line=line_of(pos))


def _decode_cell(cell: str) -> Any:
    """CSV cells holding JSON arrays/objects (how lists are written) come back as values."""
    if cell[:1] in "[{":
        try:
            return json.loads(cell)
        except json.JSONDecodeError:
            return cell
    return cell


def _read_csv(path: Path, text: str) -> list[NumberedRow]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None:
        return []
    seen: set[str] = set()
    for name in reader.fieldnames:
        if not name or name in seen:
            raise InputFormatError(str(path), "empty or repeated column name in header",
                                   line=1, field=name or "")
        seen.add(name)
    rows: list[NumberedRow] = []
    start_line = 2
    try:
        for record in reader:
            if None in record:
                raise InputFormatError(str(path), "more cells than header columns",
                                       line=start_line)
            rows.append((start_line, {k: _decode_cell(v or "") for k, v in record.items()}))
            start_line = reader.line_num + 1
    except csv.Error as exc:
        raise InputFormatError(str(path), f"malformed CSV ({exc})", line=reader.line_num) from None
    return rows


def _read_parquet(path: Path) -> list[NumberedRow]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several unrelated classes for bad files
        raise InputFormatError(str(path), f"unreadable parquet file ({exc})") from None
    return [(i, row) for i, row in enumerate(table.to_pylist(), start=1)]


def validate_required(
    path: str | os.PathLike[str], rows: Iterable[NumberedRow], keys: Sequence[str]
) -> None:
    """Stop before any work when a row lacks a field the first step needs."""
    if not keys:
        return
    for line, row in rows:
        for key in keys:
            if row.get(key) is None:
                raise InputFormatError(
                    str(path), "required field is missing or null", line=line, field=key
                )


# ----------------------------------------------------------------------------------- writing


def _json_line(row: Row) -> str:
    return json.dumps(row, ensure_ascii=False, default=str)


def _encode_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _csv_text(rows: Sequence[Row]) -> str:
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    if columns:
        writer.writeheader()
    for row in rows:
        writer.writerow({k: _encode_cell(v) for k, v in row.items()})
    return buffer.getvalue()


def serialize(rows: Sequence[Row], fmt: str) -> bytes:
    """The bytes of a row file in ``fmt`` (parquet goes through pyarrow)."""
    check_format(fmt)
    if fmt == "jsonl":
        return "".join(_json_line(r) + "\n" for r in rows).encode("utf-8")
    if fmt == "json":
        return (json.dumps(list(rows), ensure_ascii=False, indent=1, default=str) + "\n").encode()
    if fmt == "csv":
        return _csv_text(rows).encode("utf-8")
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(list(rows)) if rows else pa.table({})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write via a temporary file in the same directory, fsync, then rename over ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_rows_atomic(path: str | os.PathLike[str], rows: Sequence[Row], fmt: str) -> None:
    write_bytes_atomic(path, serialize(rows, fmt))
