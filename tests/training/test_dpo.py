"""DPO export: pairs made of the CoT vote's graded candidates, in TRL's and LLaMA-Factory's
preference layouts, read back by pandas and datasets; rows with nothing to prefer give no pair."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from sqlsynth.db import DatabaseManager
from sqlsynth.examples import __file__ as examples_init
from sqlsynth.export import export_rows
from sqlsynth.operators.base import StepContext
from sqlsynth.operators.filter import Text2SQLCoTVotingGenerator
from sqlsynth.training.dpo import DPOOptions, pair_counts, preference_records

DBS = Path(examples_init).parent / "databases"
GOLD = 'SELECT COUNT(*) FROM "patients"'
PROMPT = "Schema ... Question: How many patients?"


def answer(sql: str | None, words: str) -> str:
    return f"{words}\n```sql\n{sql}\n```" if sql else f"{words}: no query."


RESPONSES = [answer("SELECT COUNT(*) FROM doctors", "counts doctors"),
             answer(GOLD, "counts patients"),
             answer("SELECT COUNT(*) FROM no_such_table", "guesses a table"),
             answer(None, "gives up"),
             answer("SELECT COUNT(patient_id) FROM patients", "counts ids")]


def voted_row() -> dict:
    """A row as the pipeline leaves it: the real vote over real answers on a bundled database."""
    row = {"id": "p1", "db_id": "hospital_admissions", "question": "How many patients?",
           "SQL": GOLD, "prompt": PROMPT, "cot_responses": RESPONSES}
    with DatabaseManager.from_path_or_url(str(DBS)) as dbm:
        out = asyncio.run(Text2SQLCoTVotingGenerator(dbm).aprocess_row(
            row, StepContext(step_index=1, step_name="vote", seed=1)))
    return out[0]


@pytest.fixture(scope="module")
def row() -> dict:
    return voted_row()


def test_the_vote_grades_every_answer(row):
    verdicts = [(c["verdict"], c["error"], c["kept"]) for c in row["cot_candidates"]]
    assert verdicts == [("wrong_result", None, False), ("correct", None, True),
                        ("error", "runtime_error", False), ("no_sql", None, False),
                        ("correct", None, False)]
    assert row["cot_reasoning"] == RESPONSES[1]


def test_trl_layout_round_trips_through_pandas_and_datasets(tmp_path, row):
    pd = pytest.importorskip("pandas")
    datasets = pytest.importorskip("datasets")
    summary = export_rows([row], tmp_path, "dpo", dpo=DPOOptions(pairs_per_row=5))
    parquet, jsonl = summary.paths
    assert (summary.written, summary.skipped) == (3, 0)
    assert any("3 preference pairs from 1 rows" in n and "wrong_result 1" in n
               for n in summary.notes)
    frame = pd.read_parquet(parquet)
    assert list(frame["rejected_reason"]) == ["wrong_result", "error", "no_sql"]
    for name, path in (("parquet", parquet), ("json", jsonl)):
        ds = datasets.load_dataset(name, data_files=str(path), split="train")
        first = ds[0]
        assert first["prompt"] == [{"role": "user", "content": PROMPT}]
        assert first["chosen"] == [{"role": "assistant", "content": RESPONSES[1]}]
        assert first["rejected"] == [{"role": "assistant", "content": RESPONSES[0]}]
        assert first["chosen_sql"] == GOLD and first["SQL"] == GOLD
        assert ds[1]["rejected_error"] == "runtime_error"


@pytest.mark.parametrize("layout", ["llamafactory-alpaca", "llamafactory-sharegpt"])
def test_llamafactory_layouts_register_a_ranking_dataset(tmp_path, row, layout):
    summary = export_rows([row], tmp_path, "dpo", dpo=DPOOptions(layout=layout))
    data, info_path = summary.paths
    [record] = json.loads(data.read_text())
    [(name, entry)] = json.loads(info_path.read_text()).items()
    assert entry["ranking"] is True and entry["file_name"] == data.name
    assert "dpo" in name
    if layout == "llamafactory-alpaca":
        assert entry["columns"] == {"prompt": "instruction", "query": "input",
                                    "chosen": "chosen", "rejected": "rejected"}
        assert (record["instruction"], record["chosen"], record["rejected"]) == (
            PROMPT, RESPONSES[1], RESPONSES[0])
    else:
        assert entry["formatting"] == "sharegpt"
        assert entry["columns"] == {"messages": "conversations", "chosen": "chosen",
                                    "rejected": "rejected"}
        assert record["conversations"] == [{"from": "human", "value": PROMPT}]
        assert record["chosen"] == {"from": "gpt", "value": RESPONSES[1]}
        assert record["rejected"] == {"from": "gpt", "value": RESPONSES[0]}


def graded(*verdicts: str) -> list[dict]:
    return [{"text": f"answer {i}", "sql": f"SELECT {i}", "verdict": v, "error": None,
             "kept": i == verdicts.index("correct") if "correct" in verdicts else False}
            for i, v in enumerate(verdicts)]


def test_rows_with_nothing_to_prefer_give_no_pair_and_say_why(tmp_path):
    base = {"db_id": "d", "SQL": "SELECT 1", "prompt": "p"}
    rows = [{**base, "cot_candidates": graded("correct", "correct")},   # all agree
            {**base, "cot_candidates": graded("correct")},              # canonical: one answer
            {**base, "cot_reasoning": "old run, no candidates"},        # a run before the field
            {**base, "cot_candidates": graded("wrong_result", "error")},  # nothing correct
            {**base, "cot_candidates": graded("not_comparable", "correct")},
            {**base, "cot_candidates": graded("error", "correct", "wrong_result")}]
    summary = export_rows(rows, tmp_path, "dpo")
    assert summary.written == 1 and summary.skipped == 5
    assert [r for _, r in summary.skipped_rows] == [
        "no failing candidate (every answer reaches the row's answer)",
        "one candidate only (nothing to prefer it to)",
        "no graded candidates (cot_candidates absent: a run before the field, or no vote)",
        "no candidate reaches the row's answer",
        "no failing candidate (every answer reaches the row's answer)"]
    [line] = summary.paths[1].read_text().splitlines()
    pair = json.loads(line)
    assert pair["rejected_reason"] == "wrong_result"  # the hardest negative first
    assert pair["chosen"][0]["content"] == "answer 1"
    counts = pair_counts(rows)
    assert counts["rows_paired"] == 1 and counts["rejected_reasons"] == {"wrong_result": 1}
    assert sum(counts["unpaired"].values()) == 5


def test_identical_failing_answers_give_one_pair():
    cands = graded("correct", "wrong_result", "wrong_result")
    cands[2]["text"] = cands[1]["text"]
    records = preference_records([(0, {"prompt": "p", "cot_candidates": cands})],
                                 DPOOptions(pairs_per_row=3), lambda i, r: None)
    assert len(records) == 1


def test_export_command_writes_pairs(tmp_path, row, capsys):
    from sqlsynth.cli import main

    rows_file = tmp_path / "rows.jsonl"
    rows_file.write_text(json.dumps(row) + "\n" + json.dumps({**row, "cot_candidates": None})
                         + "\n", encoding="utf-8")
    out = tmp_path / "pairs"
    assert main(["export", "--input", str(rows_file), "--format", "dpo", "--layout",
                 "llamafactory-sharegpt", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "exported 1 rows" in printed and "skipped 1" in printed
    assert "1 preference pairs from 1 rows" in printed
    assert main(["export", "--input", str(rows_file), "--format", "dpo", "--layout", "verl",
                 "--out", str(out)]) != 0
    assert "--format dpo takes --layout trl" in capsys.readouterr().err


def test_hf_card_counts_the_pairs(tmp_path, row):
    summary = export_rows([row, {**row, "cot_candidates": None}], tmp_path / "hf", "hf")
    card = next(p for p in summary.paths if p.name == "README.md").read_text()
    assert "## Training signals" in card
    assert "**preference pairs** (`--format dpo`): 1 rows give a pair (rejected answer: " \
           "wrong_result 1)" in card
