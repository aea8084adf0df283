"""Exporters: each format's layout, what is skipped and why, and files other tools can read."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import pytest

from sqlsynth.export import EXPORT_FORMATS, ExportSummary, export_rows

ROWS = [
    {"db_id": "retail_orders", "question": "How many shoes?", "SQL": "SELECT 1",
     "prompt": "Schema ... Question: How many shoes?",
     "cot_reasoning": "Step 1 ...\n```sql\nSELECT 1\n```",
     "sql_component_difficulty": "easy"},
    {"db_id": "hospital_admissions", "question": "Heart attacks?", "SQL": "SELECT 2",
     "prompt": "Schema ... Question: Heart attacks?", "cot_reasoning": "Think ... SELECT 2",
     "id": "r07"},
    {"db_id": "regional_economy", "question": "No prompt yet", "SQL": "SELECT 3"},
    {"db_id": "regional_economy", "question": "Blank cot", "SQL": "SELECT 4",
     "prompt": "Schema ...", "cot_reasoning": "   "},
]


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_jsonl_and_json_round_trip(tmp_path):
    s = export_rows(iter(ROWS), tmp_path / "out" / "rows.jsonl", "jsonl")
    assert (s.written, s.skipped) == (4, 0)
    assert _jsonl(tmp_path / "out" / "rows.jsonl") == ROWS
    s = export_rows(ROWS, tmp_path / "rows.json", "json")
    assert json.loads((tmp_path / "rows.json").read_text(encoding="utf-8")) == ROWS
    assert s.paths == [tmp_path / "rows.json"]


def test_values_json_cannot_hold_are_converted_or_skipped(tmp_path):
    rows = [{"d": dt.date(2023, 1, 2), "x": Decimal("1.50"), "p": Path("a/b"), "t": (1, 2)},
            {"bad": b"\x00"}, ["not", "a", "row"], {"nan": float("nan")},
            {"nested": {"deep": [1, {2}]}}]
    s = export_rows(rows, tmp_path / "r.jsonl", "jsonl")
    assert _jsonl(tmp_path / "r.jsonl") == [{"d": "2023-01-02", "x": "1.50", "p": "a/b",
                                            "t": [1, 2]}]
    assert s.written == 1 and s.skipped == 4
    assert [i for i, _ in s.skipped_rows] == [1, 2, 3, 4]
    reasons = dict(s.skipped_rows)
    assert "'bad'" in reasons[1] and "bytes" in reasons[1]
    assert "list" in reasons[2]
    assert "'nan'" in reasons[3]
    assert "'nested.deep[1]'" in reasons[4]


def test_parquet_reads_back_with_pyarrow(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    rows = ROWS + [{"db_id": "x", "score": 1}, {"db_id": "y", "score": "high"}]
    s = export_rows(rows, tmp_path / "rows.parquet", "parquet")
    table = pq.read_table(tmp_path / "rows.parquet")
    assert table.num_rows == len(rows) == s.written
    assert table.column("db_id").to_pylist() == [r["db_id"] for r in rows]
    assert table.column("id").to_pylist() == [None, "r07", None, None, None, None]
    assert table.column("score").to_pylist() == [None] * 4 + ["1", '"high"']
    assert s.notes == ["column 'score' has mixed types; stored as JSON text"]


def test_parquet_of_nothing(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    s = export_rows([], tmp_path / "empty.parquet", "parquet")
    assert s.written == 0 and pq.read_table(tmp_path / "empty.parquet").num_rows == 0


def test_hf_folder_layout_and_card(tmp_path):
    s = export_rows(ROWS, tmp_path / "ds", "hf", dataset_name="my_text2sql")
    assert _jsonl(tmp_path / "ds" / "data" / "train.jsonl") == ROWS
    card = (tmp_path / "ds" / "README.md").read_text(encoding="utf-8")
    header = card.split("---")[1]
    assert "path: data/train.jsonl" in header and "split: train" in header
    assert "# my_text2sql" in card and "4 rows" in card
    assert "| `cot_reasoning` | string (in 3 of 4 rows) |" in card
    assert "| `id` | string (in 1 of 4 rows) |" in card
    assert s.written == 4
    assert sorted(p.name for p in s.paths) == ["README.md", "dataset_dict.json", "train",
                                               "train.jsonl"]


def test_hf_folder_loads_with_datasets(tmp_path):
    datasets = pytest.importorskip("datasets")
    export_rows(ROWS[:2], tmp_path / "ds", "hf")
    ds = datasets.load_dataset(str(tmp_path / "ds"), split="train")
    assert ds.num_rows == 2 and ds[0]["db_id"] == "retail_orders"


def test_llamafactory_alpaca_into_folder(tmp_path):
    s = export_rows(ROWS, tmp_path / "lf", "llamafactory-alpaca")
    assert (s.written, s.skipped) == (2, 2)
    assert s.reasons == {"missing 'prompt'": 1, "empty 'cot_reasoning'": 1}
    assert s.skipped_rows == [(2, "missing 'prompt'"), (3, "empty 'cot_reasoning'")]
    data = tmp_path / "lf" / "sqlsynth_text2sql_alpaca.json"
    records = json.loads(data.read_text(encoding="utf-8"))
    assert records == [{"instruction": r["prompt"], "input": "", "output": r["cot_reasoning"]}
                       for r in ROWS[:2]]
    info = json.loads((tmp_path / "lf" / "dataset_info.json").read_text(encoding="utf-8"))
    assert info == {"sqlsynth_text2sql_alpaca": {
        "file_name": data.name,
        "columns": {"prompt": "instruction", "query": "input", "response": "output"}}}


def test_llamafactory_sharegpt_file_keeps_other_entries(tmp_path):
    info_path = tmp_path / "dataset_info.json"
    info_path.write_text(json.dumps({"other": {"file_name": "other.json"}}), encoding="utf-8")
    s = export_rows(ROWS, tmp_path / "train.jsonl", "llamafactory-sharegpt")
    assert s.written == 2 and s.skipped == 2
    records = _jsonl(tmp_path / "train.jsonl")
    assert records[1] == {"conversations": [
        {"from": "human", "value": ROWS[1]["prompt"]},
        {"from": "gpt", "value": ROWS[1]["cot_reasoning"]}]}
    info = json.loads(info_path.read_text(encoding="utf-8"))
    assert info["other"] == {"file_name": "other.json"}
    entry = info["train"]
    assert entry["file_name"] == "train.jsonl" and entry["formatting"] == "sharegpt"
    assert entry["columns"] == {"messages": "conversations"}
    assert entry["tags"] == {"role_tag": "from", "content_tag": "value",
                             "user_tag": "human", "assistant_tag": "gpt"}


def test_llamafactory_custom_keys_and_non_text(tmp_path):
    rows = [{"q": "prompt text", "a": "answer"}, {"q": "prompt text", "a": 42}]
    s = export_rows(rows, tmp_path / "x.json", "llamafactory-alpaca",
                    prompt_key="q", output_key="a", dataset_name="custom")
    assert s.written == 1 and s.reasons == {"'a' is not text": 1}
    info = json.loads((tmp_path / "dataset_info.json").read_text(encoding="utf-8"))
    assert list(info) == ["custom"]


def test_broken_dataset_info_is_reported_with_its_path(tmp_path):
    (tmp_path / "dataset_info.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="dataset_info.json:1"):
        export_rows(ROWS[:1], tmp_path / "d.json", "llamafactory-alpaca")


def test_unknown_format_names_the_choices(tmp_path):
    with pytest.raises(ValueError, match="llamafactory-sharegpt"):
        export_rows(ROWS, tmp_path / "x", "csv")


def test_every_format_runs_and_summarises(tmp_path):
    pytest.importorskip("pyarrow")
    for fmt in EXPORT_FORMATS:
        s = export_rows(ROWS, tmp_path / f"out_{fmt}" / "data.json", fmt)
        assert isinstance(s, ExportSummary)
        assert s.written + s.skipped == len(ROWS), fmt
        assert all(p.exists() for p in s.paths), fmt


@pytest.mark.parametrize("fmt", ["jsonl", "json", "parquet"])
def test_file_formats_into_a_folder(tmp_path, fmt):
    """``--out export/`` (a folder, existing or with a trailing slash) gets a named file."""
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    existing = tmp_path / "existing"
    existing.mkdir()
    for out in (existing, f"{tmp_path / 'new'}/"):
        summary = export_rows(ROWS, out, fmt)
        assert summary.written == len(ROWS)
        assert [p.name for p in summary.paths] == [f"sqlsynth_text2sql.{fmt}"]
        assert summary.paths[0].parent.is_dir() and summary.paths[0].is_file()


def test_import_stays_light():
    code = "import sys, sqlsynth.export; print('pyarrow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _card_header(folder: Path) -> dict:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load((folder / "README.md").read_text(encoding="utf-8").split("---")[1])


def test_hf_folder_loads_with_load_from_disk_and_load_dataset(tmp_path):
    datasets = pytest.importorskip("datasets")
    rows = ROWS + [{"db_id": "x", "score": 1, "tags": ["a", "b"], "meta": {"k": 1}},
                   {"db_id": "y", "score": "high"}]
    s = export_rows(rows, tmp_path / "ds", "hf")
    assert "column 'score' has mixed types; stored as JSON text" in s.notes
    on_disk = datasets.load_from_disk(str(tmp_path / "ds"))["train"]
    hub = datasets.load_dataset(str(tmp_path / "ds"), split="train")
    for ds in (on_disk, hub):
        assert ds.num_rows == len(rows)
        assert ds["db_id"] == [r["db_id"] for r in rows]
        assert ds[4]["score"] == "1" and ds[5]["score"] == '"high"'
        assert ds[4]["tags"] == ["a", "b"] and ds[4]["meta"] == {"k": 1}
    assert set(on_disk.column_names) == set(hub.column_names)


def test_hf_card_metadata_features_sizes_license(tmp_path):
    pytest.importorskip("pyarrow")
    export_rows(ROWS, tmp_path / "ds", "hf", license="cc-by-4.0", dataset_name="t2s: v1 #x")
    meta = _card_header(tmp_path / "ds")
    assert meta["license"] == "cc-by-4.0" and meta["pretty_name"] == "t2s: v1 #x"
    info = meta["dataset_info"]
    features = {f["name"]: f for f in info["features"]}
    assert features["db_id"]["dtype"] == "string" and set(features) >= {"id", "cot_reasoning"}
    assert info["splits"] == [{"name": "train", "num_examples": 4,
                               "num_bytes": (tmp_path / "ds/data/train.jsonl").stat().st_size}]
    assert meta["size_categories"] == ["n<1K"]
    assert meta["configs"][0]["data_files"] == [{"split": "train", "path": "data/train.jsonl"}]


def test_hf_card_says_how_it_was_made(tmp_path):
    prov = {"pipeline": "Text2SQLGeneration_APIPipeline", "model": "qwen2.5-coder",
            "embedding_model": "emb", "seed": 7, "databases": ["hospital_admissions"],
            "steps": [{"step": 1, "name": "SQLGenerator", "rows_in": 0, "rows_out": 9}],
            "labels": {"sql_component_difficulty": {"easy": 3, "hard": 1}},
            "rejected_in_run": 5, "review": {"accept": 2, "reject": 1}}
    export_rows(ROWS, tmp_path / "ds", "hf", provenance=prov)
    card = (tmp_path / "ds" / "README.md").read_text(encoding="utf-8")
    for text in ("**chat model**: qwen2.5-coder", "**seed**: 7", "hospital_admissions",
                 "| 1 | SQLGenerator | 0 | 9 |", "easy 3, hard 1", 'license: "unknown"',
                 "load_from_disk", "2 accepted, 1 rejected"):
        assert text in card, text


class _HubStandIn:
    """Records what ``HfApi`` is asked, checking each call against the real signatures."""

    calls: ClassVar[list] = []

    def __init__(self, **kw):
        import inspect

        from huggingface_hub import HfApi

        inspect.signature(HfApi.__init__).bind(self, **kw)
        self.real = HfApi

    def create_repo(self, repo_id, **kw):
        import inspect

        inspect.signature(self.real.create_repo).bind(self, repo_id, **kw)
        self.calls.append(("create_repo", repo_id, kw))
        return f"https://hub.invalid/datasets/{repo_id}"

    def upload_folder(self, **kw):
        import inspect

        from huggingface_hub.utils import filter_repo_objects

        inspect.signature(self.real.upload_folder).bind(self, **kw)
        folder = Path(kw["folder_path"])
        files = [str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()]
        kw["uploaded"] = sorted(filter_repo_objects(files, allow_patterns=kw["allow_patterns"],
                                                    ignore_patterns=kw.get("ignore_patterns")))
        self.calls.append(("upload_folder", kw))


def test_push_to_hub_uploads_card_and_data_only(tmp_path, monkeypatch, capsys):
    hub = pytest.importorskip("huggingface_hub")
    from sqlsynth.cli import main

    monkeypatch.setattr(hub, "HfApi", _HubStandIn)
    _HubStandIn.calls = []
    rows_file = tmp_path / "rows.jsonl"
    rows_file.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    out = tmp_path / "ds"
    assert main(["export", "--input", str(rows_file), "--format", "hf", "--out", str(out),
                 "--push-to-hub", "me/text2sql", "--private"]) == 0
    (name, repo, kw), (_, upload) = _HubStandIn.calls
    assert (name, repo) == ("create_repo", "me/text2sql")
    assert kw["repo_type"] == "dataset" and kw["private"] is True and kw["exist_ok"] is True
    assert upload["repo_id"] == "me/text2sql" and upload["repo_type"] == "dataset"
    assert upload["uploaded"] == ["README.md", "data/train.jsonl"]
    assert "pushed" in capsys.readouterr().out


def test_push_to_hub_needs_an_hf_export(tmp_path, capsys):
    from sqlsynth.cli import main
    from sqlsynth.export import push_to_hub

    with pytest.raises(FileNotFoundError, match="not an hf export"):
        push_to_hub(tmp_path, "me/x")
    rows_file = tmp_path / "rows.jsonl"
    rows_file.write_text(json.dumps(ROWS[0]) + "\n", encoding="utf-8")
    assert main(["export", "--input", str(rows_file), "--format", "jsonl", "--out",
                 str(tmp_path / "o.jsonl"), "--push-to-hub", "me/x"]) == 2
    assert "--push-to-hub needs --format hf" in capsys.readouterr().err
    assert not (tmp_path / "o.jsonl").exists(), "checked before anything is written"


def test_export_of_a_run_folder_honours_review_marks(tmp_path, capsys):
    from sqlsynth.cli import main
    from sqlsynth.viewer.review import ReviewMarks

    run = tmp_path / "run"
    run.mkdir()
    (run / "final.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS),
                                     encoding="utf-8")
    marks = ReviewMarks(run)
    marks.set(ROWS[1], "reject", "wrong")
    marks.set(ROWS[0], "accept", "good")
    out = tmp_path / "o.jsonl"
    assert main(["export", "--input", str(run), "--format", "jsonl", "--out", str(out)]) == 0
    got = _jsonl(out)
    assert [r["question"] for r in got] == [ROWS[0]["question"], *[r["question"]
                                                                    for r in ROWS[2:]]]
    assert "review" not in got[0]
    assert "left out 1 rows marked 'reject'" in capsys.readouterr().out
    assert main(["export", "--input", str(run), "--format", "jsonl", "--out", str(out),
                 "--keep-review"]) == 0
    assert _jsonl(out)[0]["review"] == {"status": "accept", "note": "good"}
