"""The Ray executor: the run's shards as Ray tasks on a cluster, then one merge.

``RayExecutor(address)`` joins an existing cluster (``ray.init(address=...)``; ``"auto"`` finds
the local one) or, with no address, starts a private local one. Each of ``workers`` tasks runs
one shard (``sqlsynth.executors.shard``) in its own folder under the run folder, so the folder
must be on storage every node sees; the driver then merges the shards into the run folder. The
tasks rebuild the pipeline from its class and configuration (models and database connections
are never shipped), and each gets ``concurrency / workers`` LLM requests, so ``--concurrency``
stays the total for the run. A rerun resumes every shard from its own manifest.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlsynth.executors.shard import (
    ShardRun,
    ShardSpec,
    add_usage,
    merge_shards,
    run_shard,
    shard_config,
)
from sqlsynth.pipelines.pipeline import Pipeline


def _code_path() -> str | None:
    """Where this sqlsynth is imported from, when it is a source checkout (not installed)."""
    root = Path(__file__).resolve().parents[2]
    return None if "site-packages" in root.parts else str(root)


class RayExecutor:
    """Run a pipeline's shards as Ray tasks; ``workers`` shards, one CPU each."""

    def __init__(self, address: str | None = None, workers: int = 2, *,
                 runtime_env: dict[str, Any] | None = None) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.address = address or None
        self.workers = workers
        self.runtime_env = runtime_env
        #: what each shard of the last run handed back (folder, LLM usage)
        self.shard_runs: list[ShardRun] = []

    def connect(self) -> Any:
        """Join (or start) the cluster; done by ``run`` when not done before."""
        try:
            import ray
        except ImportError:
            raise ImportError("the Ray executor needs Ray: pip install 'sqlsynth[ray]'") from None
        if not ray.is_initialized():
            env = dict(self.runtime_env or {})
            code = _code_path()
            if code:  # workers import this checkout, as the driver does
                paths = [code, *filter(None, [os.environ.get("PYTHONPATH")])]
                env.setdefault("env_vars", {}).setdefault("PYTHONPATH", os.pathsep.join(paths))
            kwargs: dict[str, Any] = {"runtime_env": env or None, "log_to_driver": False,
                                      "include_dashboard": False}
            if self.address is None:
                kwargs["num_cpus"] = self.workers
            ray.init(address=self.address, **kwargs)
        return ray

    def run(self, pipeline: Pipeline, storage: Any) -> None:
        """Run ``pipeline`` (it must carry its ``recipe``: class and config) on the cluster."""
        recipe = getattr(pipeline, "recipe", None)
        if recipe is None:
            raise TypeError("RayExecutor needs a pipeline built by a pipeline class "
                            "(pipeline.recipe = (class, RunConfig)); live models cannot travel")
        pipeline_cls, cfg = recipe
        self.run_recipe(pipeline_cls, cfg)
        add_usage(pipeline.source, self.shard_runs)
        storage.adopt_manifest()  # the run summary of the merged shards

    def run_recipe(self, pipeline_cls: Any, cfg: Any) -> Path:
        """Run ``pipeline_cls(config=cfg)`` as ``workers`` shards, merge into ``cfg.out``."""
        ray = self.connect()
        share = max(1, cfg.concurrency // self.workers)
        # a task whose worker or node died is rerun (it resumes from its folder); an error
        # raised by the shard itself (bad input, endpoint down) is not retried
        task = ray.remote(num_cpus=1, max_retries=2)(run_shard)
        specs = [ShardSpec(i, self.workers) for i in range(self.workers)]
        refs = [task.remote(pipeline_cls, shard_config(cfg, s, concurrency=share), s)
                for s in specs]
        try:
            self.shard_runs = list(ray.get(refs))
        except Exception as exc:
            cause = getattr(exc, "cause", None)
            if isinstance(cause, BaseException):
                raise cause from None  # the shard's own error (bad input, endpoint down, ...)
            raise
        return merge_shards(cfg.out, prefix=cfg.file_name_prefix, cache_type=cfg.cache_type)

