"""The run manifest: what it saves is what a new process loads; reuse needs all three checks."""

from __future__ import annotations

import json
from pathlib import Path

from sqlsynth.storage.manifest import MANIFEST_VERSION, Manifest


def _finished(tmp_path: Path, *steps: int) -> Manifest:
    manifest = Manifest(tmp_path / "manifest.json")
    for step in steps:
        manifest.put(step, {"fingerprint": f"fp{step}", "done": True, "rows_out": step * 10})
    manifest.save()
    return manifest


def test_save_then_load_in_a_new_object_gives_the_same_entries(tmp_path: Path) -> None:
    _finished(tmp_path, 2, 1, 3)
    loaded = Manifest(tmp_path / "manifest.json")
    assert sorted(loaded.steps) == [1, 2, 3]
    assert loaded.entry(2) == {"step": 2, "fingerprint": "fp2", "done": True, "rows_out": 20}
    body = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert body["version"] == MANIFEST_VERSION
    assert [e["step"] for e in body["steps"]] == [1, 2, 3]  # saved in step order


def test_missing_corrupt_or_other_version_files_load_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    assert Manifest(path).steps == {}
    path.write_text('{"version": 1, "steps": [', encoding="utf-8")  # cut off by a kill
    assert Manifest(path).steps == {}
    path.write_bytes(b"\xff\xfe not utf-8")
    assert Manifest(path).steps == {}
    path.write_text(json.dumps({"version": MANIFEST_VERSION + 1,
                                "steps": [{"step": 1, "done": True}]}), encoding="utf-8")
    assert Manifest(path).steps == {}
    path.write_text(json.dumps({"version": MANIFEST_VERSION,
                                "steps": [{"step": 1}, "junk", {"no_step": 2}]}),
                    encoding="utf-8")
    assert list(Manifest(path).steps) == [1]


def test_drop_from_forgets_that_step_and_every_later_one(tmp_path: Path) -> None:
    manifest = _finished(tmp_path, 1, 2, 3, 4)
    manifest.drop_from(3)
    assert sorted(manifest.steps) == [1, 2]
    manifest.save()
    assert sorted(Manifest(tmp_path / "manifest.json").steps) == [1, 2]


def test_put_replaces_an_entry_and_records_its_step(tmp_path: Path) -> None:
    manifest = _finished(tmp_path, 1)
    manifest.put(1, {"fingerprint": "new", "done": False})
    assert manifest.entry(1) == {"step": 1, "fingerprint": "new", "done": False}
    assert manifest.entry(7) is None


def test_is_reusable_needs_done_the_same_fingerprint_and_the_file(tmp_path: Path) -> None:
    manifest = _finished(tmp_path, 1)
    step_file = tmp_path / "step1.jsonl"
    assert not manifest.is_reusable(1, "fp1", step_file)  # the step file is gone
    step_file.write_text("{}\n", encoding="utf-8")
    assert manifest.is_reusable(1, "fp1", step_file)
    assert not manifest.is_reusable(1, "other configuration", step_file)
    assert not manifest.is_reusable(2, "fp2", step_file)  # never recorded
    manifest.put(1, {"fingerprint": "fp1", "done": False})  # started, not finished
    assert not manifest.is_reusable(1, "fp1", step_file)
    manifest.put(1, {"fingerprint": "fp1", "done": "yes"})  # only a real True counts
    assert not manifest.is_reusable(1, "fp1", step_file)
