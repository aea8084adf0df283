"""Benchmarks read from their usual files: Spider/BIRD items, tables.json, gold SQL lines."""

from __future__ import annotations

import json

import pytest

from sqlsynth.decontamination import load_benchmark


def test_bird_style_folder(tmp_path):
    (tmp_path / "dev.json").write_text(json.dumps([
        {"question_id": 7, "db_id": "shop", "question": "How many?", "SQL": "SELECT 1",
         "evidence": ""}]))
    (tmp_path / "dev_tables.json").write_text(json.dumps([
        {"db_id": "shop", "table_names_original": ["Orders"],
         "column_names_original": [[-1, "*"], [0, "Id"], [0, "Total"]]}]))
    bench = load_benchmark(tmp_path, "bird")
    [item] = bench.items
    assert (bench.name, item.item_id, item.sql, item.db_id) == ("bird", "7", "SELECT 1", "shop")
    assert bench.schemas == {"shop": frozenset({"orders.id", "orders.total"})}


def test_gold_sql_file_and_jsonl(tmp_path):
    gold = tmp_path / "dev_gold.sql"
    gold.write_text("SELECT count(*) FROM singer\tconcert_singer\n\nSELECT 2\tother\n")
    bench = load_benchmark(gold)
    assert [(i.item_id, i.db_id, i.question) for i in bench.items] == [
        ("dev_gold.sql:1", "concert_singer", None), ("dev_gold.sql:3", "other", None)]
    rows = tmp_path / "test.jsonl"
    rows.write_text('{"question": "q", "query": "SELECT 3"}\n{oops\n')
    with pytest.raises(ValueError, match=r"test.jsonl:2"):
        load_benchmark(rows)


def test_missing_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="benchmark not found"):
        load_benchmark(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="dev.json"):
        load_benchmark(tmp_path)
