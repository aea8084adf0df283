"""SQLExecutabilityFilter (EXPLAIN only) and SQLExecutionFilter (runs, with a time limit)."""

from __future__ import annotations

import time

import pytest

from sqlsynth.operators.base import Reject
from sqlsynth.operators.filter import SQLExecutabilityFilter, SQLExecutionFilter

INFINITE = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"


def row(sql, db_id="shop"):
    return {"db_id": db_id, "SQL": sql, "extra": "kept"}


@pytest.mark.parametrize(
    ("sql", "db_id", "reason"),
    [
        ("DELETE FROM customers", "shop", "forbidden"),
        ("SELECT 1; DROP TABLE customers", "shop", "forbidden"),
        ("PRAGMA table_info(customers)", "shop", "forbidden"),
        ("SELECT name FROM customers WHERE", "shop", "syntax_error"),
        ("SELECT nickname FROM customers", "shop", "runtime_error"),
        ("SELECT * FROM animals", "shop", "runtime_error"),
        ("SELECT 1", "atlantis", "unknown_db_id"),
        ("   ", "shop", "empty_sql"),
    ],
)
async def test_executability_reasons(dbm, ctx, sql, db_id, reason):
    out = await SQLExecutabilityFilter(dbm).aprocess_row(row(sql, db_id), ctx)
    assert isinstance(out, Reject) and out.reason == reason


async def test_executability_keeps_valid_select_and_with(dbm, ctx):
    op = SQLExecutabilityFilter(dbm)
    for sql in ("SELECT name FROM customers WHERE city = 'Leeds'",
                "WITH big AS (SELECT * FROM orders WHERE amount > 10) SELECT count(*) FROM big"):
        assert await op.aprocess_row(row(sql), ctx) == [row(sql)]


async def test_executability_does_not_execute(dbm, ctx):
    started = time.perf_counter()
    assert await SQLExecutabilityFilter(dbm).aprocess_row(row(INFINITE), ctx) == [row(INFINITE)]
    assert time.perf_counter() - started < 3  # executing it would never end


async def test_execution_filter_keeps_running_sql(dbm, ctx):
    sql = "SELECT name FROM customers ORDER BY id"
    assert await SQLExecutionFilter(dbm).aprocess_row(row(sql), ctx) == [row(sql)]


async def test_execution_filter_times_out(dbm, ctx):
    out = await SQLExecutionFilter(dbm, timeout=0.3).aprocess_row(row(INFINITE), ctx)
    assert isinstance(out, Reject) and out.reason == "timeout"


async def test_execution_filter_runtime_error_only_seen_when_running(dbm, ctx):
    sql = "SELECT abs(-9223372036854775808)"  # integer overflow, raised while running
    assert await SQLExecutabilityFilter(dbm).aprocess_row(row(sql), ctx) == [row(sql)]
    out = await SQLExecutionFilter(dbm).aprocess_row(row(sql), ctx)
    assert isinstance(out, Reject) and out.reason == "runtime_error" and "overflow" in out.detail


async def test_execution_filter_drop_empty(dbm, ctx):
    sql = "SELECT name FROM customers WHERE city = 'Paris'"
    assert await SQLExecutionFilter(dbm).aprocess_row(row(sql), ctx) == [row(sql)]
    out = await SQLExecutionFilter(dbm, drop_empty=True).aprocess_row(row(sql), ctx)
    assert out == Reject("empty_result", "no rows (1 columns)")


@pytest.mark.parametrize(
    ("sql", "db_id", "reason"),
    [("UPDATE customers SET city = 'x'", "shop", "forbidden"),
     ("SELECT 1", "atlantis", "unknown_db_id"), ("", "shop", "empty_sql"),
     ("SELECT legs FROM customers", "shop", "runtime_error")],
)
async def test_execution_filter_reasons(dbm, ctx, sql, db_id, reason):
    out = await SQLExecutionFilter(dbm).aprocess_row(row(sql, db_id), ctx)
    assert isinstance(out, Reject) and out.reason == reason


def test_filters_through_file_storage(dbm, tmp_path):
    import json

    from sqlsynth.storage import FileStorage, read_rows

    entry = tmp_path / "in.jsonl"
    rows = [row("SELECT name FROM customers"), row("DROP TABLE customers"),
            row("SELECT 1", "atlantis"), row(INFINITE)]
    entry.write_text("".join(json.dumps(r) + "\n" for r in rows))
    storage = FileStorage(str(entry), cache_path=str(tmp_path / "cache"))
    with storage.streaming():
        SQLExecutabilityFilter(dbm).run(storage=storage.step(), input_sql_key="SQL",
                                        input_db_id_key="db_id")
        SQLExecutionFilter(dbm, timeout=0.3).run(storage=storage.step(), input_sql_key="SQL",
                                                 input_db_id_key="db_id")
    assert read_rows(tmp_path / "cache" / "dataflow_cache_step_step2.jsonl") == [rows[0]]
    rejects = read_rows(tmp_path / "cache" / "dataflow_cache_step_rejects.jsonl")
    assert [(r["step"], r["reason"]) for r in rejects] == [
        (1, "forbidden"), (1, "unknown_db_id"), (2, "timeout")]


def test_missing_sql_field_in_input_file_names_line(dbm, tmp_path):
    from sqlsynth.storage import FileStorage, InputFormatError

    entry = tmp_path / "in.jsonl"
    entry.write_text('{"db_id": "shop", "SQL": "SELECT 1"}\n{"db_id": "shop"}\n')
    storage = FileStorage(str(entry), cache_path=str(tmp_path / "cache"))
    with pytest.raises(InputFormatError) as info:
        SQLExecutabilityFilter(dbm).run(storage=storage.step())
    assert (info.value.line, info.value.field) == (2, "SQL")
