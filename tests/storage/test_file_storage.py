"""FileStorage: step files, manifest reuse and redo, rejects file, eager vs streaming."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import ClassVar

import pytest

from sqlsynth.operators.base import Operator, Reject, Row, StepContext
from sqlsynth.storage import FileStorage, InputFormatError, read_rows


class AddSuffix(Operator):
    """Appends ``suffix`` to ``text``; rejects rows whose text contains ``drop``."""

    default_keys: ClassVar[dict[str, str]] = {"input_key": "text", "output_key": "text"}

    def __init__(self, suffix: str, calls: list | None = None, delay: float = 0.0) -> None:
        super().__init__()
        self.suffix = suffix
        self._calls = calls if calls is not None else []  # private: run state, not config
        self.delay = delay

    def required_input_keys(self) -> list[str]:
        return [self.keys["input_key"]]

    async def aprocess_row(self, row: Row, ctx: StepContext) -> list[Row] | Reject:
        self._calls.append(row[self.keys["input_key"]])
        await asyncio.sleep(self.delay)
        if "drop" in row[self.keys["input_key"]]:
            return Reject("dropped_word", row[self.keys["input_key"]])
        return [{**row, self.keys["output_key"]: row[self.keys["input_key"]] + self.suffix}]


class Split(Operator):
    """Two rows per input, keyed so that duplicates appear."""

    async def aprocess_row(self, row: Row, ctx: StepContext) -> list[Row]:
        return [{**row, "part": row["text"][:1]}, {**row, "part": row["text"][-1:]}]

    def dedup_key(self, row: Row):
        return row["part"]


class Seeds(Operator):
    def plan_sources(self, ctx: StepContext) -> list[Row]:
        return [{"text": f"seed{i}"} for i in range(3)]

    async def aprocess_row(self, row: Row, ctx: StepContext) -> list[Row]:
        return [row]


def write_input(path: Path, texts: list[str]) -> Path:
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    return path


def make_storage(tmp_path: Path, **kw) -> FileStorage:
    entry = kw.pop("entry", tmp_path / "input.jsonl")
    return FileStorage(str(entry), cache_path=str(tmp_path / "cache"), file_name_prefix="run", **kw)


def run_pipeline(storage: FileStorage, ops: list[Operator], streaming: bool) -> None:
    if streaming:
        with storage.streaming():
            for op in ops:
                op.run(storage=storage.step())
    else:
        for op in ops:
            op.run(storage=storage.step())


def texts(path: Path) -> list[str]:
    return [r["text"] for r in read_rows(path)]


@pytest.mark.parametrize("streaming", [False, True])
def test_steps_write_files_manifest_and_rejects(tmp_path, streaming):
    write_input(tmp_path / "input.jsonl", ["a", "drop me", "b"])
    storage = make_storage(tmp_path)
    run_pipeline(storage, [AddSuffix("1"), AddSuffix("2")], streaming)
    cache = tmp_path / "cache"
    assert texts(cache / "run_step1.jsonl") == ["a1", "b1"]
    assert texts(cache / "run_step2.jsonl") == ["a12", "b12"]
    manifest = json.loads((cache / "run_manifest.json").read_text())
    entries = manifest["steps"]
    assert [(e["step"], e["operator"], e["done"]) for e in entries] == [
        (1, "AddSuffix", True), (2, "AddSuffix", True)]
    assert entries[0]["rows_in"] == 3 and entries[0]["rows_out"] == 2
    assert entries[0]["rejects"] == {"dropped_word": 1}
    assert entries[0]["keys"] == {"input_key": "text", "output_key": "text"}
    rejects = [json.loads(x) for x in (cache / "run_rejects.jsonl").read_text().splitlines()]
    assert rejects == [{"step": 1, "step_name": "AddSuffix", "reason": "dropped_word",
                        "detail": "drop me", "row": {"text": "drop me"}}]
    summary = storage.summary()
    assert [(s["step"], s["rows_in"], s["rows_out"], s["resumed"]) for s in summary] == [
        (1, 3, 2, False), (2, 2, 2, False)]
    assert summary[0]["rejects"] == {"dropped_word": 1} and summary[0]["name"] == "AddSuffix"
    assert sorted(os.listdir(cache)) == [
        "run_manifest.json", "run_rejects.jsonl", "run_step1.jsonl", "run_step2.jsonl"]


def test_eager_and_streaming_files_are_identical(tmp_path):
    write_input(tmp_path / "input.jsonl", [f"w{i}" for i in range(30)] + ["drop"])
    outputs = []
    for streaming in (False, True):
        root = tmp_path / str(streaming)
        root.mkdir()
        storage = make_storage(root, entry=tmp_path / "input.jsonl")
        run_pipeline(storage, [AddSuffix("x"), Split(), AddSuffix("y")], streaming)
        outputs.append({p.name: p.read_bytes() for p in sorted((root / "cache").iterdir())
                        if p.name != "run_manifest.json"})
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize("streaming", [False, True])
def test_rerun_skips_done_steps_and_redoes_changed_ones(tmp_path, streaming):
    write_input(tmp_path / "input.jsonl", ["a", "b"])
    calls1: list = []
    calls2: list = []
    run_pipeline(make_storage(tmp_path), [AddSuffix("1", calls1), AddSuffix("2", calls2)],
                 streaming)
    assert len(calls1) == len(calls2) == 2

    # same configuration: nothing runs again
    storage = make_storage(tmp_path)
    run_pipeline(storage, [AddSuffix("1", calls1), AddSuffix("2", calls2)], streaming)
    assert len(calls1) == len(calls2) == 2
    assert [s["resumed"] for s in storage.summary()] == [True, True]
    assert storage.summary()[0]["rows_out"] == 2

    # step 2 changed: step 1 reused, step 2 redone
    run_pipeline(make_storage(tmp_path), [AddSuffix("1", calls1), AddSuffix("Z", calls2)],
                 streaming)
    assert len(calls1) == 2 and len(calls2) == 4
    assert texts(tmp_path / "cache" / "run_step2.jsonl") == ["a1Z", "b1Z"]

    # step 1 changed: everything after it is redone too
    run_pipeline(make_storage(tmp_path), [AddSuffix("Q", calls1), AddSuffix("Z", calls2)],
                 streaming)
    assert len(calls1) == 4 and len(calls2) == 6
    assert texts(tmp_path / "cache" / "run_step2.jsonl") == ["aQZ", "bQZ"]

    # the input changed: everything is redone
    write_input(tmp_path / "input.jsonl", ["c"])
    run_pipeline(make_storage(tmp_path), [AddSuffix("Q", calls1), AddSuffix("Z", calls2)],
                 streaming)
    assert texts(tmp_path / "cache" / "run_step2.jsonl") == ["cQZ"]

    # a different seed changes what operators may draw: redo
    run_pipeline(make_storage(tmp_path, seed=7), [AddSuffix("Q", calls1), AddSuffix("Z", calls2)],
                 streaming)
    assert len(calls1) == 6


def test_redo_removes_stale_later_step_files_and_rejects(tmp_path):
    write_input(tmp_path / "input.jsonl", ["a", "drop"])
    run_pipeline(make_storage(tmp_path), [AddSuffix("1"), AddSuffix("2"), AddSuffix("3")], True)
    cache = tmp_path / "cache"
    assert (cache / "run_step3.jsonl").exists()
    # a shorter pipeline with a changed first step: old step files 2 and 3 must go
    run_pipeline(make_storage(tmp_path), [AddSuffix("X")], True)
    assert not (cache / "run_step2.jsonl").exists() and not (cache / "run_step3.jsonl").exists()
    lines = (cache / "run_rejects.jsonl").read_text().splitlines()
    assert len(lines) == 1


@pytest.mark.parametrize("fmt", ["json", "csv", "parquet"])
def test_cache_types(tmp_path, fmt):
    write_input(tmp_path / "input.jsonl", ["a", "b"])
    storage = make_storage(tmp_path, cache_type=fmt)
    run_pipeline(storage, [AddSuffix("1"), AddSuffix("2")], True)
    assert texts(tmp_path / "cache" / f"run_step2.{fmt}") == ["a12", "b12"]
    # a step file of this format is valid input for a later eager step
    AddSuffix("3").run(storage=storage.step())
    assert texts(tmp_path / "cache" / f"run_step3.{fmt}") == ["a123", "b123"]


@pytest.mark.parametrize("fmt", ["json", "csv", "parquet"])
def test_input_in_other_formats(tmp_path, fmt):
    from sqlsynth.storage import write_rows_atomic

    entry = tmp_path / f"input.{fmt}"
    write_rows_atomic(entry, [{"text": "a"}, {"text": "b"}], fmt)
    storage = make_storage(tmp_path, entry=entry)
    AddSuffix("1").run(storage=storage.step())
    assert texts(tmp_path / "cache" / "run_step1.jsonl") == ["a1", "b1"]


def test_missing_field_in_input_stops_before_any_work(tmp_path):
    entry = tmp_path / "input.jsonl"
    entry.write_text('{"text": "a"}\n{"txt": "b"}\n')
    calls: list = []
    with pytest.raises(InputFormatError) as info:
        AddSuffix("1", calls).run(storage=make_storage(tmp_path).step())
    assert (info.value.path, info.value.line, info.value.field) == (str(entry), 2, "text")
    assert calls == []


def test_bound_keys_decide_the_required_field(tmp_path):
    entry = tmp_path / "input.jsonl"
    entry.write_text('{"text": "a"}\n')
    with pytest.raises(InputFormatError, match="'body'"):
        AddSuffix("1").run(storage=make_storage(tmp_path).step(), input_key="body")
    with pytest.raises(TypeError, match="unexpected keyword"):
        AddSuffix("1").run(storage=make_storage(tmp_path).step(), no_such_key="x")


@pytest.mark.parametrize("entry_name", ["", "absent.jsonl", "empty.jsonl"])
def test_source_step_needs_no_input(tmp_path, entry_name):
    (tmp_path / "empty.jsonl").write_text("")
    entry = str(tmp_path / entry_name) if entry_name else ""
    storage = FileStorage(entry, cache_path=str(tmp_path / "cache"), file_name_prefix="run")
    with storage.streaming():
        Seeds().run(storage=storage.step())
        AddSuffix("!").run(storage=storage.step())
    assert texts(tmp_path / "cache" / "run_step2.jsonl") == ["seed0!", "seed1!", "seed2!"]


@pytest.mark.parametrize("streaming", [False, True])
def test_absent_input_of_a_transforming_first_step_is_an_error(tmp_path, streaming):
    """A mistyped input path must not finish as an empty run, nor remove an earlier run."""
    write_input(tmp_path / "input.jsonl", ["a"])
    run_pipeline(make_storage(tmp_path), [AddSuffix("1")], streaming)
    storage = make_storage(tmp_path, entry=tmp_path / "inptu.jsonl")
    with pytest.raises(FileNotFoundError, match="inptu.jsonl"):
        run_pipeline(storage, [AddSuffix("1")], streaming)
    assert texts(tmp_path / "cache" / "run_step1.jsonl") == ["a1"]


def test_source_after_other_steps_starts_a_new_segment(tmp_path):
    write_input(tmp_path / "input.jsonl", ["a"])
    storage = make_storage(tmp_path)
    with storage.streaming():
        AddSuffix("1").run(storage=storage.step())
        Seeds().run(storage=storage.step())
        AddSuffix("2").run(storage=storage.step())
    assert texts(tmp_path / "cache" / "run_step1.jsonl") == ["a1"]
    assert texts(tmp_path / "cache" / "run_step3.jsonl") == ["seed02", "seed12", "seed22"]


def test_empty_input_writes_empty_step_files(tmp_path):
    (tmp_path / "input.jsonl").write_text("")
    run_pipeline(make_storage(tmp_path), [AddSuffix("1")], True)
    assert (tmp_path / "cache" / "run_step1.jsonl").read_text() == ""


def test_exception_inside_streaming_block_runs_nothing(tmp_path):
    write_input(tmp_path / "input.jsonl", ["a"])
    storage = make_storage(tmp_path)
    with pytest.raises(RuntimeError, match="user"), storage.streaming():
        AddSuffix("1").run(storage=storage.step())
        raise RuntimeError("user")
    assert not (tmp_path / "cache" / "run_step1.jsonl").exists()


async def test_eager_run_inside_running_event_loop(tmp_path):
    write_input(tmp_path / "input.jsonl", ["a"])
    AddSuffix("1").run(storage=make_storage(tmp_path).step())
    assert texts(tmp_path / "cache" / "run_step1.jsonl") == ["a1"]


RESUME_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys
    from sqlsynth.operators.base import Operator, Reject
    from sqlsynth.storage import FileStorage

    log_path = sys.argv[2]

    class Logged(Operator):
        def __init__(self, tag, delay):
            super().__init__()
            self.tag, self.delay = tag, delay

        async def aprocess_row(self, row, ctx):
            with open(log_path, "a") as log:
                log.write(f"{self.tag} {row['id']}\\n")
            await asyncio.sleep(self.delay)
            if row["id"] % 5 == 4:
                return Reject("fifth", self.tag)
            return [{**row, "trail": row.get("trail", "") + self.tag}]

    storage = FileStorage(sys.argv[1] + "/input.jsonl", cache_path=sys.argv[1] + "/cache",
                          file_name_prefix="run", concurrency=1)
    with storage.streaming():
        Logged("a", 0.0).run(storage=storage.step())
        Logged("b", float(sys.argv[3])).run(storage=storage.step())
        Logged("c", 0.0).run(storage=storage.step())
    """
)


def test_resume_after_kill_9(tmp_path):
    script = tmp_path / "pipeline.py"
    script.write_text(RESUME_SCRIPT)
    import sqlsynth

    repo = str(Path(sqlsynth.__file__).resolve().parent.parent)
    env = {**os.environ, "SQLSYNTH_PROGRESS": "0",
           "PYTHONPATH": os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")]))}
    rows = "".join(json.dumps({"id": i}) + "\n" for i in range(12))
    for name in ("killed", "clean"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "input.jsonl").write_text(rows)

    killed = tmp_path / "killed"
    log = killed / "log.txt"
    proc = subprocess.Popen([sys.executable, str(script), str(killed), str(log), "0.25"],
                            env=env)
    step1 = killed / "cache" / "run_step1.jsonl"
    manifest_path = killed / "cache" / "run_manifest.json"

    def step1_done() -> bool:
        try:
            entries = json.loads(manifest_path.read_text())["steps"]
        except (FileNotFoundError, ValueError):
            return False
        return any(e["step"] == 1 and e["done"] for e in entries)

    deadline = time.monotonic() + 60
    while not step1_done() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert step1.exists()
    assert not (killed / "cache" / "run_step3.jsonl").exists()
    first_log = log.read_text().split()
    subprocess.run([sys.executable, str(script), str(killed), str(log), "0.25"], env=env,
                   check=True, timeout=120)
    rerun_log = log.read_text().split()[len(first_log):]
    assert not [x for x in rerun_log[::2] if x == "a"]  # step 1 was not redone

    clean = tmp_path / "clean"
    subprocess.run([sys.executable, str(script), str(clean), str(clean / "log.txt"), "0.25"],
                   env=env, check=True, timeout=120)
    for name in ("run_step1.jsonl", "run_step2.jsonl", "run_step3.jsonl", "run_rejects.jsonl"):
        assert (killed / "cache" / name).read_bytes() == (clean / "cache" / name).read_bytes()
    manifest = json.loads((killed / "cache" / "run_manifest.json").read_text())
    assert all(entry["done"] for entry in manifest["steps"])
