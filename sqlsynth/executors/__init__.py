"""Executors: they run a compiled ``Pipeline`` against a ``FileStorage``; storage only stores.

``LocalExecutor`` streams in this process; ``ShardExecutor`` runs one deterministic share of
the rows (``--shard i/N``, for job arrays) whose folder ``merge_shards`` combines; and
``RayExecutor`` runs the shares as tasks on a Ray cluster and merges them. All give the same
final file and rejects, byte for byte, for the same seed.
"""

from __future__ import annotations

from typing import Any

__all__ = ["LocalExecutor", "RayExecutor", "ShardExecutor", "ShardSpec", "merge_shards"]

_HOMES = {
    "LocalExecutor": "sqlsynth.executors.local",
    "RayExecutor": "sqlsynth.executors.ray",
    "ShardExecutor": "sqlsynth.executors.shard",
    "ShardSpec": "sqlsynth.executors.shard",
    "merge_shards": "sqlsynth.executors.shard",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(name)
