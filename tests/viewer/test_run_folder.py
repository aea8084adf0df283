"""RunFolder reads what a real run wrote, and what an empty or partial folder holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sqlsynth.viewer.run_folder import RUNS_FILE, RunFolder, row_key


def test_reads_a_generate_run(built_run: Path) -> None:
    run = RunFolder.load(built_run)
    assert run.rows and run.rows_source == "final.jsonl"
    funnel = run.funnel()
    # every step of the generation pipeline, in order (the reference's nine and the checks)
    assert [f["step"] for f in funnel] == list(range(1, len(funnel) + 1))
    assert len(funnel) >= 9 and funnel[-1]["name"] == "SQLExecutionClassifier"
    assert funnel[0]["name"] == "SQLGenerator" and all(f["done"] for f in funnel)
    assert funnel[-1]["rows_out"] == len(run.rows)
    # every dropped row is in the rejects file, and the groups add up to it
    dropped = sum(sum(f["rejects"].values()) for f in funnel)
    assert len(run.rejects) == dropped
    assert sum(g["count"] for g in run.reject_groups()) == len(run.rejects)
    # the run recorded what it was and what it used
    record = run.last_run
    assert record["pipeline"] == "Text2SQLGeneration_APIPipeline"
    assert record["model"] == "scripted" and record["seed"] == 42
    assert Path(record["db"]).is_dir()
    usage = run.usage()
    assert usage["scripted"]["requests"] > 0 and usage["scripted"]["prompt_tokens"] > 0


def test_usage_adds_up_over_runs_and_passwords_are_not_recorded(tmp_path: Path) -> None:
    lines = [{"db": "postgresql://me:***@127.0.0.1/", "usage": {"m": {"prompt_tokens": 10}}},
             {"db": "postgresql://me:***@127.0.0.1/", "usage": {"m": {"prompt_tokens": 5},
                                                               "e": {"prompt_tokens": 1}}}]
    (tmp_path / RUNS_FILE).write_text("".join(json.dumps(x) + "\n" for x in lines) + "{cut",
                                      encoding="utf-8")
    run = RunFolder.load(tmp_path)
    assert run.usage() == {"m": {"prompt_tokens": 15}, "e": {"prompt_tokens": 1}}
    assert run.rows == [] and run.funnel() == []


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="run folder not found"):
        RunFolder.load(tmp_path / "nope")


def test_row_key_is_content_based() -> None:
    a = {"db_id": "x", "question": "q", "SQL": "SELECT 1", "other": 1}
    assert row_key(a) == row_key({**a, "other": 2})
    assert row_key(a) != row_key({**a, "SQL": "SELECT 2"})
