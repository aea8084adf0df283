"""``sqlsynth decontaminate`` and ``export --decontaminate``: rows flagged or dropped, a report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sqlsynth.cli import main

SPIDER = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "spider"
ROWS = [{"id": "leak", "db_id": "concert_singer", "question": "How many singers do we have?",
         "SQL": "SELECT count(*) FROM singer", "prompt": "p", "cot_reasoning": "c"},
        {"id": "clean", "db_id": "retail_orders", "question": "How many orders were refunded?",
         "SQL": "SELECT COUNT(*) FROM orders WHERE status = 'REF'", "prompt": "p",
         "cot_reasoning": "c"}]


@pytest.fixture
def bench(tmp_path) -> Path:
    """A small benchmark folder cut from Spider dev (its first items and tables)."""
    if not (SPIDER / "dev.json").is_file():
        pytest.skip(f"Spider dev not found at {SPIDER}")
    folder = tmp_path / "spider_dev"
    folder.mkdir()
    items = json.loads((SPIDER / "dev.json").read_text())[:40]
    (folder / "dev.json").write_text(json.dumps(items))
    (folder / "tables.json").write_text((SPIDER / "tables.json").read_text())
    return folder


@pytest.fixture
def rows_file(tmp_path) -> Path:
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return path


def test_decontaminate_flags_and_reports(tmp_path, bench, rows_file, capsys):
    out = tmp_path / "flagged.jsonl"
    assert main(["decontaminate", "--input", str(rows_file), "--benchmark",
                 f"spider-dev={bench}", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "spider-dev (40 items): 1 of 2 rows overlap" in printed
    flagged = [json.loads(line) for line in out.read_text().splitlines()]
    assert [len(r["contamination"]) for r in flagged] == [1, 0]
    assert flagged[0]["contamination"][0]["item_id"] == "dev.json#0"
    report = json.loads((tmp_path / "contamination.json").read_text())
    assert report["flagged"] == 1 and report["matches"][0]["id"] == "leak"
    assert report["options"]["question_threshold"] == 0.7


def test_export_drops_what_overlaps(tmp_path, bench, rows_file, capsys):
    out = tmp_path / "sft.jsonl"
    assert main(["export", "--input", str(rows_file), "--format", "jsonl", "--out", str(out),
                 "--decontaminate", "drop", "--benchmark", str(bench),
                 "--question-threshold", "0.9"]) == 0
    assert "dropped 1" in capsys.readouterr().out
    [kept] = [json.loads(line) for line in out.read_text().splitlines()]
    assert kept["id"] == "clean" and kept["contamination"] == []


def test_bad_settings_are_errors(tmp_path, bench, rows_file, capsys):
    assert main(["export", "--input", str(rows_file), "--format", "jsonl", "--out",
                 str(tmp_path / "x.jsonl"), "--benchmark", str(bench)]) != 0
    assert "--benchmark needs --decontaminate" in capsys.readouterr().err
    assert main(["decontaminate", "--input", str(rows_file), "--benchmark", str(bench),
                 "--question-threshold", "1.5", "--out", str(tmp_path / "y.jsonl")]) != 0
    assert "between 0 and 1" in capsys.readouterr().err
    assert main(["decontaminate", "--input", str(rows_file), "--out",
                 str(tmp_path / "z.jsonl")]) != 0
    assert "--benchmark" in capsys.readouterr().err
