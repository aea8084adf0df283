"""The data card of a real run: every section, the right figures, nothing from the network."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from sqlsynth.cli import main
from sqlsynth.viewer.card import render_card
from sqlsynth.viewer.run_folder import RunFolder


def test_end_of_run_wrote_the_card(built_run: Path) -> None:
    assert (built_run / "report.html").is_file()


def test_card_sections_and_figures(built_run: Path) -> None:
    run = RunFolder.load(built_run)
    page = render_card(run, {"scripted": (1.0, 2.0)})
    for anchor in ("runs", "funnel", "rejects", "difficulty", "features", "databases",
                   "labels", "quality", "usage", "samples"):
        assert f'id="{anchor}"' in page, anchor
    assert f"<b>{len(run.rows)}</b>final rows" in page
    assert f"<b>{len(run.rejects)}</b>rejected rows" in page
    usage = run.usage()["scripted"]
    dollars = (usage["prompt_tokens"] * 1.0 + usage["completion_tokens"] * 2.0) / 1e6
    assert f"${dollars:.4f}" in page
    per_db = Counter(r["db_id"] for r in run.rows)
    for db_id in per_db:
        assert db_id in page
    assert page.count("<svg") >= 5


def test_card_is_self_contained(built_run: Path) -> None:
    page = render_card(RunFolder.load(built_run), {})
    assert "<script" not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page


def test_unknown_model_shows_tokens_only(built_run: Path) -> None:
    page = render_card(RunFolder.load(built_run), {})
    assert "tokens only (no price)" in page and "<b>n/a</b>estimated cost" in page


def test_report_command(built_run: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "card.html"
    assert main(["report", str(built_run), "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    printed = capsys.readouterr().out
    assert str(out) in printed and f"sqlsynth view {built_run}" in printed


def test_card_of_an_empty_folder(tmp_path: Path) -> None:
    page = render_card(RunFolder.load(tmp_path), {})
    assert "no final rows" in page and "no step has finished" in page


def test_quality_fields_are_summarised(tmp_path: Path) -> None:
    import json

    rows = [{"db_id": "a", "question": "q1", "SQL": "SELECT 1", "judge_score": 0.5,
             "quality": "good"},
            {"db_id": "a", "question": "q2", "SQL": "SELECT 2", "judge_score": 1.0,
             "quality": "poor", "cot_reasoning": "long text " * 20}]
    (tmp_path / "final.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows),
                                          encoding="utf-8")
    run = RunFolder.load(tmp_path)
    assert run.quality_fields() == ["judge_score", "quality"]
    page = render_card(run, {})
    section = page.split('id="quality"')[1].split("</section>")[0]
    assert "judge_score" in section and "0.75" in section
    assert "good" in section and "poor" in section


def test_many_databases_are_capped(tmp_path: Path) -> None:
    import json

    rows = [{"db_id": f"db{i:03d}", "question": "q", "SQL": "SELECT 1"} for i in range(45)]
    (tmp_path / "final.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows),
                                          encoding="utf-8")
    section = render_card(RunFolder.load(tmp_path), {}).split('id="databases"')[1]
    section = section.split("</section>")[0]
    assert section.count("<rect") == 40 and "… and 5 more (5 rows)" in section


def test_training_section_counts_pass_rates_pairs_and_overlaps(tmp_path: Path) -> None:
    import json

    def graded(*verdicts: str) -> list[dict]:
        return [{"text": f"a{i}", "sql": f"SELECT {i}", "verdict": v, "error": None,
                 "kept": i == 0} for i, v in enumerate(verdicts)]

    leak = [{"benchmark": "spider", "item_id": "dev.json#0", "kind": ["question", "sql_exact"],
             "score": 1.0}]
    rows = [{"db_id": "a", "question": "q1", "SQL": "SELECT 1", "prompt": "p",
             "sql_execution_pass_rate": "5/10", "cot_candidates": graded("correct", "error"),
             "contamination": []},
            {"db_id": "a", "question": "q2", "SQL": "SELECT 2", "prompt": "p",
             "sql_execution_pass_rate": "10/10", "cot_candidates": graded("correct"),
             "contamination": leak},
            {"db_id": "a", "question": "q3", "SQL": "SELECT 3"}]
    (tmp_path / "final.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows),
                                          encoding="utf-8")
    (tmp_path / "contamination.json").write_text(json.dumps(
        {"mode": "flag", "rows": 3, "flagged": 1, "dropped": 0,
         "benchmarks": [{"name": "spider", "items": 1034}]}))
    section = render_card(RunFolder.load(tmp_path), {}).split('id="training"')[1]
    section = section.split("</section>")[0]
    assert "2 rows measured; 1 in the learnable band" in section
    assert "rows giving a pair</td><td class=\"num\">1" in section
    assert "rejected answer: error" in section and "no pair: one candidate only" in section
    assert "1 of 2 rows overlap spider (1034 items)" in section
    assert "kind sql_exact" in section
