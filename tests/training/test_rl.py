"""RL export: verl's and TRL's layouts, parquet and JSONL read back by pandas and datasets,
the pass-rate band, and the reward scoring the exported records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sqlsynth.db import DatabaseManager
from sqlsynth.examples import __file__ as examples_init
from sqlsynth.export import export_rows
from sqlsynth.reward import compute_score, trl_reward
from sqlsynth.training.rl import RLOptions, database_template, pass_rate

DBS = Path(examples_init).parent / "databases"
GOLD = 'SELECT COUNT(*) FROM "patients"'


def rows() -> list[dict]:
    base = {"db_id": "hospital_admissions", "question": "How many patients?", "SQL": GOLD,
            "prompt": "Schema ... Question: How many patients?",
            "sql_component_difficulty": "easy"}
    return [{**base, "id": "a", "sql_execution_pass_rate": "0/10"},
            {**base, "id": "b", "sql_execution_pass_rate": "5/10"},
            {**base, "id": "c", "roundtrip_agreement": "9/10"},
            {**base, "id": "d"},
            {**base, "id": "e", "sql_execution_pass_rate": "10/10"},
            {**base, "id": "f", "SQL": "SELECT nope FROM nowhere"}]


@pytest.fixture
def manager():
    with DatabaseManager.from_path_or_url(str(DBS)) as dbm:
        yield dbm


@pytest.mark.parametrize("layout", ["verl", "trl"])
def test_round_trip_through_pandas_and_datasets(tmp_path, manager, layout):
    pd = pytest.importorskip("pandas")
    datasets = pytest.importorskip("datasets")
    summary = export_rows(rows(), tmp_path, "rl", rl=RLOptions(layout=layout),
                          database_manager=manager)
    parquet, jsonl = summary.paths
    assert (summary.written, summary.skipped) == (5, 1)
    [(position, reason)] = summary.skipped_rows
    assert position == 5 and reason.startswith("gold does not give a comparable result")
    frame = pd.read_parquet(parquet)
    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert len(frame) == len(lines) == 5
    for name in ("parquet", "json"):
        ds = datasets.load_dataset(name, data_files=str(parquet if name == "parquet" else jsonl),
                                   split="train")
        first = ds[0]
        assert first["prompt"] == [{"role": "user", "content": rows()[0]["prompt"]}]
        facts = first["extra_info"] if layout == "verl" else first
        assert facts["db_id"] == "hospital_admissions"
        assert facts["database"] == "sqlite:///{db_root}"
        assert facts["gold_result_fingerprint"].startswith("sha256:")
        assert facts["hardness"] == "easy" and facts["pass_rate"] == 0.0
    if layout == "verl":
        assert list(frame.columns) == ["data_source", "prompt", "ability", "reward_model",
                                       "extra_info"]
        assert lines[0]["reward_model"] == {"style": "rule", "ground_truth": GOLD}
    else:
        assert {"prompt", "gold_sql", "db_id", "database", "pass_rate"} <= set(frame.columns)


def test_pass_rate_band_keeps_the_learnable_rows(tmp_path):
    summary = export_rows(rows(), tmp_path / "rl", "rl",
                          rl=RLOptions(pass_rate_between=(0.1, 0.9)))
    kept = [json.loads(line)["extra_info"]["id"]
            for line in summary.paths[1].read_text().splitlines()]
    assert kept == ["b", "c"]
    assert summary.reasons == {"pass rate outside [0.1, 0.9]": 2, "no pass rate measured": 2}
    assert any("fingerprint" in note for note in summary.notes)


def test_pass_rate_reads_the_classifiers_ratio():
    assert pass_rate({"sql_execution_pass_rate": "7/10"}) == 0.7
    assert pass_rate({"roundtrip_agreement": "3/4"}) == 0.75
    assert pass_rate({"sql_execution_pass_rate": "x/0"}) is None
    assert pass_rate({}) is None


def test_database_template_holds_no_secret_or_local_path():
    assert database_template(str(DBS)) == "sqlite:///{db_root}"
    template = database_template("postgresql://reader:s3cret@db.example:5432/shop")
    assert "s3cret" not in template and "reader" not in template
    assert template == "postgresql://{user}:{password}@db.example:5432"


def test_exported_records_score_with_the_reward(tmp_path, manager):
    verl = export_rows(rows()[:1], tmp_path / "v", "rl", database_manager=manager)
    record = json.loads(verl.paths[1].read_text())
    good = "Count them.\n```sql\nSELECT count(*) FROM patients\n```"
    args = (record["data_source"], good, record["reward_model"]["ground_truth"],
            record["extra_info"])
    assert compute_score(*args, db_root=str(DBS)) == 1.0
    assert compute_score(record["data_source"], "```sql\nSELECT 1\n```",
                         record["reward_model"]["ground_truth"], record["extra_info"],
                         db_root=str(DBS)) == 0.0
    with pytest.raises(ValueError, match="db_root"):
        compute_score(*args)
    trl = export_rows(rows()[:1], tmp_path / "t", "rl", rl=RLOptions(layout="trl"),
                      database_manager=manager)
    record = json.loads(trl.paths[1].read_text())
    reward = trl_reward(db_root=str(DBS))
    columns = {k: [v] for k, v in record.items() if k != "prompt"}
    assert reward([[{"role": "assistant", "content": good}]], **columns) == [1.0]
