"""Exact agreement with Spider's official labels in ``../shared/data/spider`` (next to the
repository root): hardness of the 1,034 dev queries and the official exact-set-match verdict of
the 1,944 pairs of ``em_reference.json``. Skips, saying so, when the folder is absent."""

import json
from pathlib import Path

import pytest

from sqlsynth.eval import EvalItem
from sqlsynth.eval.conventions.runner import (
    ConventionOptions,
    evaluate_convention,
    load_tables_json,
)
from sqlsynth.sql import SQLParseError, spider_hardness

SPIDER = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "spider"


def _need(name: str) -> Path:
    path = SPIDER / name
    if not path.is_file():
        pytest.skip(f"{path} not found (the Spider data folder ../shared/data/spider is absent)")
    return path


def test_hardness_agrees_exactly_with_spider_labels():
    records = json.loads(_need("dev_hardness.json").read_text(encoding="utf-8"))
    assert len(records) == 1034
    misses = []
    for rec in records:
        try:
            ours = spider_hardness(rec["query"])
        except SQLParseError as err:
            ours = f"error: {err}"
        if ours != rec["hardness"]:
            misses.append((rec["query"], rec["hardness"], ours))
    assert misses == []


def test_spider_exact_match_agrees_on_all_1944_reference_pairs():
    tables = load_tables_json(_need("tables.json"))
    records = json.loads(_need("em_reference.json").read_text(encoding="utf-8"))
    assert len(records) == 1944
    items = [EvalItem(r["db_id"], r["gold"], r["pred"]) for r in records]
    report = evaluate_convention(items, "spider", ConventionOptions(tables=tables),
                                 etype="match")
    misses = [(r["gold"], r["pred"], r["exact_match"]) for r, item in zip(records, report.items)
              if item.exact_match is not r["exact_match"]]
    assert misses == []
    assert sum(i.exact_match for i in report.items) == 1648
