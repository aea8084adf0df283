"""Dataset fields (Spider's tokens and parse, BIRD's difficulty) agree with a row's SQL and question."""

from __future__ import annotations

import json
from pathlib import Path

from sqlsynth.source_fields import consistent_source_fields
from sqlsynth.storage.final import write_final

SPIDER_ROW = {
    "db_id": "concert_singer", "SQL": "SELECT count(*) FROM singer",
    "query": "SELECT count(*) FROM singer",
    "query_toks": ["SELECT", "count", "(", "*", ")", "FROM", "singer"],
    "query_toks_no_value": ["select", "count", "(", "*", ")", "from", "singer"],
    "question": "How many singers do we have?",
    "question_toks": ["How", "many", "singers", "do", "we", "have", "?"],
    "sql": {"select": [False, [[3, [0, [0, "__all__", False], None]]]]},
    "split": "dev",
}


def test_an_unchanged_row_keeps_every_field() -> None:
    assert consistent_source_fields(SPIDER_ROW) == SPIDER_ROW
    # spacing, case and quoting of the stored SQL are not a change
    row = {**SPIDER_ROW, "SQL": 'select COUNT(*)\n from "singer";'}
    assert consistent_source_fields(row) == row


def test_a_rewritten_sql_rewrites_the_alias_and_drops_tokens_and_parse() -> None:
    row = {**SPIDER_ROW, "SQL": "SELECT name FROM singer", "sql_variation_type": "Join"}
    out = consistent_source_fields(row)
    assert out["query"] == "SELECT name FROM singer"
    assert not {"query_toks", "query_toks_no_value", "sql"} & set(out)
    assert out["split"] == "dev" and out["question_toks"] == SPIDER_ROW["question_toks"]
    # evidence from the row alone: the tokens no longer spell the SQL
    out = consistent_source_fields({**SPIDER_ROW, "SQL": "SELECT name FROM singer"})
    assert out["query"] == "SELECT name FROM singer" and "query_toks" not in out


def test_a_new_question_drops_its_tokens() -> None:
    out = consistent_source_fields({**SPIDER_ROW, "question": "Count the singers."})
    assert "question_toks" not in out and out["query_toks"] == SPIDER_ROW["query_toks"]


def test_bird_difficulty_goes_with_a_rewritten_or_adopted_sql() -> None:
    bird = {"db_id": "d", "SQL": "SELECT 1", "question": "q", "evidence": "", "difficulty":
            "simple", "question_id": 7}
    assert consistent_source_fields(bird) == bird
    adopted = consistent_source_fields({**bird, "SQL": "SELECT 2", "original_SQL": "SELECT 1"})
    assert "difficulty" not in adopted and adopted["question_id"] == 7
    varied = consistent_source_fields({**bird, "sql_variation_type": "Join"})
    assert "difficulty" not in varied


def test_final_rows_are_made_consistent(tmp_path: Path) -> None:
    rows = [SPIDER_ROW, {**SPIDER_ROW, "SQL": "SELECT name FROM singer",
                         "question": "Name the singers.", "sql_variation_type": "Join"}]
    (tmp_path / "sqlsynth_step3.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    final = [json.loads(line) for line in
             write_final(tmp_path, "sqlsynth", "jsonl").read_text().splitlines()]
    assert final[0]["query_toks"] == SPIDER_ROW["query_toks"]
    assert final[1]["query"] == final[1]["SQL"] == "SELECT name FROM singer"
    assert not {"query_toks", "sql", "question_toks"} & set(final[1])
