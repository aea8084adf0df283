"""Both pipelines on a real two-node Ray cluster: the local run's bytes with 1, 2, 4 workers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from executor_runs import outputs, run_config
from ray_cluster import LocalRayCluster

from sqlsynth.executors.local import LocalExecutor
from sqlsynth.executors.ray import RayExecutor
from sqlsynth.pipelines import Text2SQLGeneration_APIPipeline, Text2SQLRefine_APIPipeline
from sqlsynth.storage.final import write_final

PIPELINES = {"generate": Text2SQLGeneration_APIPipeline, "refine": Text2SQLRefine_APIPipeline}


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalRayCluster]:
    started = LocalRayCluster(cpus_per_node=2).start()
    try:
        yield started
    finally:
        started.stop()


def _run(kind: str, out: Path, server_url: str, executor) -> dict[str, bytes]:
    pipeline = PIPELINES[kind](config=run_config(out, server_url, kind))
    pipeline.forward(executor)
    write_final(out, "sqlsynth", "jsonl")
    summary = pipeline.summary()
    assert [s["step"] for s in summary] == list(range(1, len(pipeline.steps()) + 1))
    return outputs(out)


@pytest.fixture(scope="module")
def local_runs(tmp_path_factory: pytest.TempPathFactory, server_url: str) -> dict:
    base = tmp_path_factory.mktemp("local")
    return {kind: _run(kind, base / kind, server_url, LocalExecutor()) for kind in PIPELINES}


@pytest.mark.parametrize("kind", ["generate", "refine"])
def test_two_workers_give_the_local_bytes(
    cluster: LocalRayCluster, local_runs: dict, tmp_path: Path, server_url: str, kind: str
) -> None:
    ray_out = _run(kind, tmp_path / kind, server_url, RayExecutor(cluster.address, workers=2))
    assert ray_out == local_runs[kind]
    assert len(list((tmp_path / kind).glob("shard-*-of-2"))) == 2


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 4])
@pytest.mark.parametrize("kind", ["generate", "refine"])
def test_one_and_four_workers_give_the_local_bytes(
    cluster: LocalRayCluster, local_runs: dict, tmp_path: Path, server_url: str, kind: str,
    workers: int,
) -> None:
    out = _run(kind, tmp_path / kind, server_url, RayExecutor(cluster.address, workers=workers))
    assert out == local_runs[kind]


def test_ray_run_resumes_every_shard(
    cluster: LocalRayCluster, local_runs: dict, tmp_path: Path, server_url: str
) -> None:
    out = tmp_path / "run"
    _run("generate", out, server_url, RayExecutor(cluster.address, workers=2))
    shard = out / "shard-1-of-2"
    (shard / "sqlsynth_step9.jsonl").unlink()
    (out / "final.jsonl").unlink()
    before = (out / "shard-0-of-2" / "sqlsynth_step9.jsonl").stat().st_mtime_ns
    assert _run("generate", out, server_url,
                RayExecutor(cluster.address, workers=2)) == local_runs["generate"]
    assert (out / "shard-0-of-2" / "sqlsynth_step9.jsonl").stat().st_mtime_ns == before, (
        "a finished shard is reused, not rerun")
