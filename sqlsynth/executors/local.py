"""The local executor: the whole pipeline in this process, rows streaming through every step.

It hands the steps to the storage the way the reference's ``forward()`` does and runs what the
storage records with the shared run loop (``sqlsynth.executors.base``), so its files, manifest,
resume and rejects are exactly those of calling ``op.run(storage=storage.step(), ...)`` inside
``FileStorage.streaming()``.
"""

from __future__ import annotations

from sqlsynth.executors.base import PipelineExecutor


class LocalExecutor(PipelineExecutor):
    """Run a compiled pipeline here, every row; ``streaming=False`` runs it step by step."""

    def __init__(self, *, streaming: bool = True) -> None:
        super().__init__(streaming=streaming)
