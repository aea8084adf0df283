"""Row files: round trips in every format, atomic writes, and errors that name file/line/field."""

from __future__ import annotations

import os

import pytest

from sqlsynth.storage import InputFormatError, read_numbered_rows, read_rows, write_rows_atomic
from sqlsynth.storage.formats import validate_required

ROWS = [
    {"db_id": "shop", "SQL": "SELECT 1", "cot_responses": ["a, \"quoted\"", "b\nline"]},
    {"db_id": "zoo", "SQL": "SELECT name FROM t WHERE x = 'é'", "cot_responses": []},
]


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "parquet"])
def test_round_trip(tmp_path, fmt):
    path = tmp_path / f"rows.{fmt}"
    write_rows_atomic(path, ROWS, fmt)
    assert read_rows(path) == ROWS
    assert [name for name in os.listdir(tmp_path)] == [path.name]  # no temp file left


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "parquet"])
def test_empty_round_trip(tmp_path, fmt):
    path = tmp_path / f"rows.{fmt}"
    write_rows_atomic(path, [], fmt)
    assert read_rows(path) == []


def test_absent_or_blank_file_has_no_rows(tmp_path):
    assert read_rows(tmp_path / "missing.jsonl") == []
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n  \n")
    assert read_rows(blank) == []


def test_failed_write_leaves_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "step.jsonl"
    write_rows_atomic(path, ROWS, "jsonl")
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_rows_atomic(path, [{"x": 1}], "jsonl")
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["step.jsonl"]


def error_of(path) -> InputFormatError:
    with pytest.raises(InputFormatError) as info:
        read_numbered_rows(path)
    return info.value


def test_malformed_json_line_names_file_and_line(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"db_id": "a", "SQL": "x"}\n\n{"db_id": "b", SQL}\n')
    err = error_of(path)
    assert err.line == 3 and str(path) in str(err) and f"{path}:3" in str(err)


def test_non_object_line(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"db_id": "a"}\n["db_id", "b"]\n')
    err = error_of(path)
    assert err.line == 2 and "object" in str(err)


def test_non_utf8_names_line(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"db_id": "a"}\n{"db_id": "caf\xe9"}\n')
    err = error_of(path)
    assert err.line == 2 and "UTF-8" in str(err)


def test_missing_required_field_names_file_line_and_field(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"db_id": "a", "SQL": "x"}\n{"db_id": "b"}\n')
    with pytest.raises(InputFormatError) as info:
        validate_required(path, read_numbered_rows(path), ["db_id", "SQL"])
    err = info.value
    assert (err.line, err.field) == (2, "SQL")
    assert f"{path}:2" in str(err) and "'SQL'" in str(err)


def test_json_array_items_keep_their_line(tmp_path):
    path = tmp_path / "in.json"
    path.write_text('[\n  {"db_id": "a", "SQL": "x"},\n  {"db_id": "b"}\n]\n')
    numbered = read_numbered_rows(path)
    assert [line for line, _ in numbered] == [2, 3]
    path.write_text('[\n  {"db_id": "a"},\n  7\n]')
    assert error_of(path).line == 3
    path.write_text('[\n  {"db_id": "a"},\n  {"db_id": }\n]')
    assert error_of(path).line == 3


def test_csv_lines_count_multiline_cells(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text('db_id,SQL\na,"SELECT\n1"\nb,\n')
    numbered = read_numbered_rows(path)
    assert numbered[0] == (2, {"db_id": "a", "SQL": "SELECT\n1"})
    assert numbered[1][0] == 4


def test_bad_parquet_is_an_input_error(tmp_path):
    path = tmp_path / "in.parquet"
    path.write_bytes(b"not parquet at all")
    assert str(path) in str(error_of(path))
