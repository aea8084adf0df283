"""The local executor: the whole pipeline in this process, rows streaming through every step.

It hands the steps to the storage the way the reference's ``forward()`` does and lets
``sqlsynth.pipelines.runner`` stream them, so its behaviour (files, manifest, resume, rejects)
is exactly that of calling ``op.run(storage=storage.step(), ...)`` inside
``FileStorage.streaming()``.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from sqlsynth.pipelines.pipeline import Pipeline


class LocalExecutor:
    """Run a compiled pipeline here; ``streaming=False`` runs it step by step instead."""

    def __init__(self, *, streaming: bool = True) -> None:
        self.streaming = streaming

    def run(self, pipeline: Pipeline, storage: Any) -> None:
        if not pipeline.compiled:
            pipeline.compile()
        with storage.streaming() if self.streaming else nullcontext():
            pipeline.record(storage)
