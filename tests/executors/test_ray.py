"""Both pipelines on a real two-node Ray cluster: the local run's bytes with 1, 2, 4 workers.

The Ray driver of each run is its own process (``ray_driver.py``), as a user's ``sqlsynth``
run is; the test process never imports Ray.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from executor_runs import PIPELINES, outputs, run_pipeline
from ray_cluster import LocalRayCluster

from sqlsynth.executors.local import LocalExecutor


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalRayCluster]:
    started = LocalRayCluster(cpus_per_node=2).start()
    try:
        yield started
    finally:
        started.stop()


def _on_ray(cluster: LocalRayCluster, kind: str, out: Path, server_url: str,
            workers: int, requests: dict[str, int] | None = None) -> dict[str, bytes]:
    """Run on the cluster; ``requests`` receives the usage the driver's summary counted."""
    printed = cluster.run(kind, str(out), server_url, cluster.address, str(workers))
    if requests is not None:
        requests.update(json.loads(printed.strip().splitlines()[-1]))
    return outputs(out)


@pytest.fixture(scope="module")
def local_runs(tmp_path_factory: pytest.TempPathFactory, server_url: str) -> dict:
    base = tmp_path_factory.mktemp("local")
    runs = {}
    for kind in PIPELINES:
        runs[kind + ":requests"] = run_pipeline(kind, base / kind, server_url, LocalExecutor())
        runs[kind] = outputs(base / kind)
    return runs


@pytest.mark.parametrize("kind", ["generate", "refine"])
def test_two_workers_give_the_local_bytes(
    cluster: LocalRayCluster, local_runs: dict, tmp_path: Path, server_url: str, kind: str
) -> None:
    requests: dict[str, int] = {}
    ray_out = _on_ray(cluster, kind, tmp_path / kind, server_url, 2, requests)
    assert ray_out == local_runs[kind]
    # the shards' LLM usage reaches the driver's summary: the run's cost, as run locally
    assert requests == local_runs[kind + ":requests"]
    assert requests["llm_serving"] > 0
    assert len(list((tmp_path / kind).glob("shard-*-of-2"))) == 2


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 4])
@pytest.mark.parametrize("kind", ["generate", "refine"])
def test_one_and_four_workers_give_the_local_bytes(
    cluster: LocalRayCluster, local_runs: dict, tmp_path: Path, server_url: str, kind: str,
    workers: int,
) -> None:
    out = _on_ray(cluster, kind, tmp_path / kind, server_url, workers)
    assert out == local_runs[kind]


def test_ray_run_resumes_every_shard(
    cluster: LocalRayCluster, local_runs: dict, tmp_path: Path, server_url: str
) -> None:
    out = tmp_path / "run"
    _on_ray(cluster, "generate", out, server_url, 2)
    shard = out / "shard-1-of-2"
    (shard / "sqlsynth_step9.jsonl").unlink()
    (out / "final.jsonl").unlink()
    before = (out / "shard-0-of-2" / "sqlsynth_step9.jsonl").stat().st_mtime_ns
    assert _on_ray(cluster, "generate", out, server_url, 2) == local_runs["generate"]
    assert (out / "shard-0-of-2" / "sqlsynth_step9.jsonl").stat().st_mtime_ns == before, (
        "a finished shard is reused, not rerun")
