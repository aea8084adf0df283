"""Readers and atomic writers for row files: jsonl, json, csv and parquet.

Readers return ``(line, row)`` pairs so a bad value can be reported with the line it came from.
JSONL and CSV are read as a stream, one line at a time, and a line (or CSV field) longer than
``max_line_bytes`` is an error naming the file and line: a 1 GB line costs at most that much
memory, never the whole file several times over. (JSON arrays are parsed whole: use JSONL for
big inputs.) Writers always go through a temporary file, ``fsync`` and ``os.replace``, so a
step file either exists complete or not at all (:mod:`sqlsynth.storage.atomic`, the one
helper every file write of sqlsynth uses); ``remove_stale_temp_files`` clears what a killed
write left behind.

Output is strict JSON (RFC 8259): NaN and +/-Infinity have no JSON spelling, so a non-finite
number is written as ``null`` (in JSONL, JSON and CSV cells alike). Parsers that accept the
non-standard tokens would otherwise be the only ones able to read the files.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from sqlsynth.errors import MissingDependencyError
from sqlsynth.storage.atomic import write_bytes_atomic
from sqlsynth.storage.errors import InputFormatError

Row = dict[str, Any]
NumberedRow = tuple[int, Row]

FORMATS = ("jsonl", "json", "csv", "parquet")
#: the longest line (JSONL) or field (CSV) read by default, in bytes (``max_line_bytes``)
DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024
_READ_CHUNK = 1 << 20
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


def read_rows(path: str | os.PathLike[str], fmt: str | None = None, *,
              max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> list[Row]:
    """All rows of a file (format from its suffix unless given); absent or empty means none."""
    return [row for _, row in read_numbered_rows(path, fmt, max_line_bytes=max_line_bytes)]


def read_numbered_rows(path: str | os.PathLike[str], fmt: str | None = None, *,
                       max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> list[NumberedRow]:
    """All rows of a file with their 1-based line numbers; an absent or empty file has none."""
    return list(iter_numbered_rows(path, fmt, max_line_bytes=max_line_bytes))


def iter_numbered_rows(path: str | os.PathLike[str], fmt: str | None = None, *,
                       max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Iterator[NumberedRow]:
    """The rows of a file one by one (JSONL and CSV streamed, see the module docstring)."""
    p = Path(path)
    if not p.exists():
        return
    if max_line_bytes < 1:
        raise ValueError(f"max_line_bytes must be at least 1, got {max_line_bytes}")
    fmt = check_format(fmt or format_for(p))
    if fmt == "parquet":
        yield from _read_parquet(p)
        return
    if fmt == "json":
        data = p.read_bytes()
        if data.strip():
            yield from _read_json(p, _decode(p, data), max_line_bytes)
        return
    with p.open("rb") as handle:
        lines = _bounded_lines(p, handle, max_line_bytes)
        if fmt == "jsonl":
            yield from _read_jsonl(p, lines)
        else:
            yield from _read_csv(p, lines, max_line_bytes)


def has_rows(path: str | os.PathLike[str], fmt: str | None = None, *,
             max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> bool:
    """Whether the file holds at least one row (reads only as far as the first one)."""
    for _ in iter_numbered_rows(path, fmt, max_line_bytes=max_line_bytes):
        return True
    return False


def _bounded_lines(path: Path, handle: BinaryIO, limit: int) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` of each line; a line longer than ``limit`` bytes is an error
    raised after reading at most ``limit + 1`` bytes of it."""
    number = 0
    while True:
        raw = handle.readline(limit + 1)
        if not raw:
            return
        number += 1
        body = raw[:-1] if raw.endswith(b"\n") else raw
        if len(body) > limit:
            raise InputFormatError(
                str(path), f"line is longer than max_line_bytes={limit} bytes (raise it with "
                "--max-line-bytes or the max_line_bytes config key if this is intended)",
                line=number)
        yield number, _decode_line(path, raw, number)


def _decode_line(path: Path, raw: bytes, number: int) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFormatError(
            str(path),
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})",
            line=number,
        ) from None
    return text[1:] if number == 1 and text.startswith("\ufeff") else text


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


def _read_jsonl(path: Path, lines: Iterable[tuple[int, str]]) -> Iterator[NumberedRow]:
    for number, raw in lines:
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InputFormatError(
                str(path), f"malformed JSON ({exc.msg} at column {exc.colno})", line=number
            ) from None
        yield number, _require_object(path, number, value)


def _read_json(path: Path, text: str, max_item: int = DEFAULT_MAX_LINE_BYTES
               ) -> list[NumberedRow]:
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
        if pos - start > max_item:
            raise InputFormatError(
                str(path), f"array item is longer than max_line_bytes={max_item} characters "
                "(raise it with --max-line-bytes or the max_line_bytes config key)",
                line=line_of(start))
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


def _read_csv(path: Path, lines: Iterable[tuple[int, str]], max_field: int
              ) -> Iterator[NumberedRow]:
    numbers = [0]

    def texts() -> Iterator[str]:
        for number, text in lines:
            numbers[0] = number
            yield text

    # strict: an unterminated quote is an error instead of swallowing the rest of the file
    previous_limit = csv.field_size_limit(max(max_field, 1))
    try:
        reader = csv.DictReader(texts(), strict=True)
        start_line = 1
        try:
            fieldnames = reader.fieldnames
            if fieldnames is None:
                return
            seen: set[str] = set()
            for name in fieldnames:
                if not name or name in seen:
                    raise InputFormatError(str(path), "empty or repeated column name in header",
                                           line=1, field=name or "")
                seen.add(name)
            start_line = numbers[0] + 1
            for record in reader:
                if None in record:
                    raise InputFormatError(str(path), "more cells than header columns",
                                           line=start_line)
                yield start_line, {k: _decode_cell(v or "") for k, v in record.items()}
                start_line = numbers[0] + 1
        except csv.Error as exc:
            reason = str(exc)
            if "unexpected end of data" in reason:
                reason = "a quoted field starting on this line is never closed"
            elif "field larger than field limit" in reason:
                reason = (f"a field is longer than max_line_bytes={max_field} bytes (raise it "
                          "with --max-line-bytes or the max_line_bytes config key)")
            raise InputFormatError(str(path), f"malformed CSV ({reason})",
                                   line=start_line) from None
    finally:
        csv.field_size_limit(previous_limit)


def _pyarrow_parquet(what: str) -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependencyError(what, "pyarrow", "parquet") from None
    return pq


def _read_parquet(path: Path) -> list[NumberedRow]:
    pq = _pyarrow_parquet(f"reading {path}")

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


def finite(value: Any) -> Any:
    """``value`` with every non-finite float (NaN, +/-Infinity) replaced by ``None``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def strict_json(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` that never writes NaN/Infinity (RFC 8259): they become ``null``."""
    kwargs.setdefault("ensure_ascii", False)
    kwargs.setdefault("default", str)
    try:
        return json.dumps(value, allow_nan=False, **kwargs)
    except ValueError:
        return json.dumps(finite(value), allow_nan=False, **kwargs)


def _json_line(row: Row) -> str:
    return strict_json(row)


def _encode_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    return strict_json(value)


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
        return (strict_json(list(rows), indent=1) + "\n").encode()
    if fmt == "csv":
        return _csv_text(rows).encode("utf-8")
    pq = _pyarrow_parquet("writing parquet files")
    import pyarrow as pa

    table = pa.Table.from_pylist([finite(r) for r in rows]) if rows else pa.table({})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def write_rows_atomic(path: str | os.PathLike[str], rows: Sequence[Row], fmt: str) -> None:
    write_bytes_atomic(path, serialize(rows, fmt))
