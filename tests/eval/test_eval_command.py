"""`sqlsynth eval` from the command line on the bundled gold questions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sqlsynth.cli import main
from sqlsynth.examples import example_db_root, example_file


def test_eval_scores_predictions_by_hardness(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gold = example_file("questions.jsonl")
    rows = [json.loads(line) for line in gold.read_text().splitlines() if line.strip()]
    pred = tmp_path / "pred.jsonl"
    # every other prediction is wrong: EX and EM must both see it
    pred.write_text("".join(
        json.dumps({"db_id": r["db_id"], "SQL": r["SQL"] if i % 2 == 0 else "SELECT 1"}) + "\n"
        for i, r in enumerate(rows)
    ))
    report = tmp_path / "report.json"
    code = main(["eval", "--db", str(example_db_root()), "--pred", str(pred), "--gold", str(gold),
                 "--json", str(report)])
    assert code == 0
    data = json.loads(report.read_text())
    text = json.dumps(data)
    assert "all" in text
    expected = (len(rows) + 1) // 2 / len(rows)
    assert f"{expected:.3f}"[:4] in text or round(expected, 3) in _numbers(data)


def _numbers(obj) -> list[float]:
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in _numbers(v)]
    if isinstance(obj, list):
        return [x for v in obj for x in _numbers(v)]
    return [round(obj, 3)] if isinstance(obj, float) else []
