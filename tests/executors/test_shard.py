"""Shards in separate processes, merged, give the local run's bytes; each resumes alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from executor_runs import outputs, run_config

from sqlsynth.cli import main
from sqlsynth.executors.shard import ShardSpec, merge_shards
from sqlsynth.pipelines import Text2SQLGeneration_APIPipeline, Text2SQLRefine_APIPipeline
from sqlsynth.storage.final import write_final

PIPELINES = {"generate": Text2SQLGeneration_APIPipeline, "refine": Text2SQLRefine_APIPipeline}


def _local(tmp_path: Path, server_url: str, kind: str) -> dict[str, bytes]:
    out = tmp_path / "local"
    pipeline = PIPELINES[kind](config=run_config(out, server_url, kind))
    pipeline.forward()
    write_final(out, "sqlsynth", "jsonl")
    return outputs(out)


def _cli_args(kind: str, out: Path, server_url: str) -> list[str]:
    cfg = run_config(out, server_url, kind)
    args = [kind, "--out", str(out), "--base-url", server_url, "--model", "scripted",
            "--embedding-model", "scripted-emb", "--seed", str(cfg.seed),
            "--concurrency", str(cfg.concurrency),
            "--question-candidates", str(cfg.question_candidates),
            "--cot-samples", str(cfg.cot_samples),
            "--execution-generations", str(cfg.execution_generations),
            "--variations", str(cfg.num_variations)]
    if kind == "refine":
        args += ["--input", cfg.input]
    else:
        args += ["--num", str(cfg.generate_num)]
    return args


def _shard_processes(kind: str, out: Path, server_url: str, count: int) -> None:
    env = {**os.environ, "SQLSYNTH_PROGRESS": "0"}
    procs = [subprocess.Popen([sys.executable, "-m", "sqlsynth.cli",
                               *_cli_args(kind, out, server_url), "--shard", f"{i}/{count}"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(count)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]


@pytest.mark.parametrize("kind", ["generate", "refine"])
def test_merged_shards_are_byte_identical_to_a_local_run(
    tmp_path: Path, server_url: str, kind: str
) -> None:
    expected = _local(tmp_path, server_url, kind)
    out = tmp_path / "sharded"
    _shard_processes(kind, out, server_url, 2)
    assert not (out / "final.jsonl").exists(), "a shard never writes the run's final file"
    assert main(["merge", "--out", str(out)]) == 0
    assert outputs(out) == expected
    assert expected["final.jsonl"]
    if kind == "refine":  # the example input has a broken row: rejects are merged too
        assert expected["sqlsynth_rejects.jsonl"]


def test_shard_resumes_alone_and_merge_refuses_missing_shards(
    tmp_path: Path, server_url: str
) -> None:
    expected = _local(tmp_path, server_url, "generate")
    out = tmp_path / "sharded"
    args = _cli_args("generate", out, server_url)
    assert main([*args, "--shard", "0/3"]) == 0
    with pytest.raises(FileNotFoundError, match=r"shards \[1, 2\] of 3"):
        merge_shards(out)
    assert main([*args, "--shard", "1/3"]) == 0
    assert main([*args, "--shard", "2/3"]) == 0
    # shard 1 is cut short: its last two steps are gone; a rerun redoes only those
    shard = ShardSpec(1, 3).folder(out)
    for step in (8, 9):
        (shard / f"sqlsynth_step{step}.jsonl").unlink()
    assert main([*args, "--shard", "1/3"]) == 0
    assert main(["merge", "--out", str(out)]) == 0
    assert outputs(out) == expected


def test_rows_split_by_database_and_nothing_is_lost() -> None:
    rows = [{"db_id": f"db{i % 5}", "slot": i} for i in range(40)]
    shards = [ShardSpec(i, 3) for i in range(3)]
    owners = [[s.contains(r) for s in shards].index(True) for r in rows]
    assert all(sum(s.contains(r) for s in shards) == 1 for r in rows)
    for a, b in zip(rows, owners):
        same_db = [o for r, o in zip(rows, owners) if r["db_id"] == a["db_id"]]
        assert set(same_db) == {b}
    assert ShardSpec.parse(" 2 / 4 ") == ShardSpec(2, 4)
    for bad in ("4/4", "1", "-1/3", "a/b"):
        with pytest.raises(ValueError):
            ShardSpec.parse(bad)
