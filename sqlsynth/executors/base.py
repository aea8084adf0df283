"""The run loop every executor shares: what is done, what to skip, what to redo, and the stream.

datatrove's ``executor/base.py`` is the model: the executor, not the storage, decides which
steps an earlier run finished (their manifest entry is done and their fingerprint — input,
seed and the configuration of them and every earlier step — still matches), removes the files
that are stale from the first step it redoes, splits the rest into segments (a source step
ignores its input stream, so it starts one), owns the event loop, and streams each segment's
rows through all its steps at once (``sqlsynth.pipelines.runner``). The storage only stores:
paths, reading, atomic step files, the manifest and the rejects file.

``LocalExecutor`` (every row), ``ShardExecutor`` (``select``: one shard's rows, with their
positions in the whole run beside every step file) and, through shards, ``RayExecutor`` run
their steps here, so their files are the same byte for byte.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from sqlsynth.operators.base import Operator, Reject, Row, StepContext
from sqlsynth.pipelines.pipeline import Pipeline
from sqlsynth.pipelines.runner import DEFAULT_MAX_IN_FLIGHT, StreamStep, is_source, run_stream
from sqlsynth.storage.atomic import remove_stale_temp_files, write_bytes_atomic
from sqlsynth.storage.file_storage import FileStorage
from sqlsynth.storage.fingerprint import describe_operator, digest
from sqlsynth.storage.formats import read_numbered_rows, validate_required, write_rows_atomic
from sqlsynth.storage.manifest import Manifest
from sqlsynth.storage.rejects import RejectsLog

#: rows in flight per unit of LLM concurrency when a concurrency is given. Generous on purpose:
#: admitting rows late leaves a tail of sequential LLM calls at the end of the run
#: (bench/pipeline.py: 4 per slot gave 1.12x the latency bound, 32 per slot 1.06x); a row in
#: flight costs only its dict.
ROWS_PER_LLM_SLOT = 32

#: one step to run: its operator, its index in the run and its fingerprint
Todo = tuple[Operator, int, str]


class PipelineExecutor:
    """Run a compiled pipeline against a ``FileStorage``, resuming what an earlier run finished.

    ``select`` keeps only the rows it accepts (a shard's share); the steps of such a run write
    each row's position in the whole run beside their files, so shards merge back into the
    one-process order. ``streaming=False`` runs the steps one after another instead.
    """

    def __init__(self, *, streaming: bool = True,
                 select: Callable[[Row], bool] | None = None) -> None:
        self.streaming = streaming
        self.select = select

    def run(self, pipeline: Pipeline, storage: FileStorage) -> None:
        """Hand the steps to ``storage`` the way the reference's ``forward()`` does; this
        executor runs what the storage records (``FileStorage.executed_by``)."""
        if not pipeline.compiled:
            pipeline.compile()
        with storage.executed_by(self), storage.streaming() if self.streaming else nullcontext():
            pipeline.record(storage)

    # ------------------------------------------------------------------ the run loop

    def execute(self, storage: FileStorage, recorded: Sequence[tuple[Operator, int]]) -> None:
        """Run consecutive steps ``recorded`` (operator, index), reusing finished ones."""
        indices = [index for _, index in recorded]
        if indices != list(range(indices[0], indices[0] + len(indices))):
            raise RuntimeError(f"steps must run in order without gaps, got {indices}")
        if indices[0] == 1:
            _check_first_entry(storage, recorded[0][0])
        storage.cache_dir.mkdir(parents=True, exist_ok=True)
        # what a write killed mid-way left behind (complete files were renamed into place)
        remove_stale_temp_files(storage.cache_dir)
        manifest = Manifest(storage.manifest_path)

        fingerprint = storage.base_fingerprint(indices[0], manifest)
        todo: list[Todo] = []
        for op, index in recorded:
            fingerprint = digest(fingerprint, op.step_name, op.keys, describe_operator(op))
            storage.fingerprints[index] = fingerprint
            path = storage.step_path(index)
            if not todo and manifest.is_reusable(index, fingerprint, path):
                storage.note_resumed(index, manifest.entry(index) or {})
            else:
                todo.append((op, index, fingerprint))
        if not todo:
            return

        first = todo[0][1]
        # the input is read (and checked) before anything of an earlier run is removed: a bad
        # input file is an error that leaves every finished step of that run in place
        first_rows = _segment_input(storage, todo[0][0], first)
        # files of this and later steps from an earlier run are stale from here on
        stale = {k for k in manifest.steps if k >= first} | {index for _, index, _ in todo}
        manifest.drop_from(first)
        for op, index, fp in todo:
            manifest.put(index, _entry(op, index, fp, storage.step_path(index), done=False))
        manifest.save()
        for index in sorted(stale):
            storage.step_path(index).unlink(missing_ok=True)
        rejects = RejectsLog(storage.rejects_path)
        rejects.start(first)
        try:
            for number, segment in enumerate(_segments(todo)):
                self._run_segment(storage, segment, manifest, rejects,
                                  first_rows if number == 0 else None)
        finally:
            rejects.finish()

    def max_in_flight(self, storage: FileStorage) -> int:
        if storage.concurrency:
            return max(1, ROWS_PER_LLM_SLOT * storage.concurrency)
        return DEFAULT_MAX_IN_FLIGHT

    def _run_segment(self, storage: FileStorage, segment: Sequence[Todo], manifest: Manifest,
                     rejects: RejectsLog, rows: list[Row] | None = None) -> None:
        first_op, first_index, _ = segment[0]
        steps = [StreamStep(op, StepContext(step_index=index, step_name=op.step_name,
                                            seed=storage.seed))
                 for op, index, _ in segment]
        if rows is None:
            rows = _segment_input(storage, first_op, first_index)
        sharded = self.select is not None
        select, roots = self.select, None
        if sharded and first_index > 1 and not is_source(first_op):
            # this shard's own earlier step: its rows keep their positions in the run
            select, roots = None, storage.read_positions(first_index - 1)

        def on_reject(i: int, position: tuple[int, ...], row: Row, reject: Reject) -> None:
            ctx = steps[i].ctx
            rejects.add(ctx.step_index, ctx.step_name, position, reject.reason, reject.detail,
                        row, with_position=sharded)

        def on_step_done(i: int, out_rows: list[Row], stats: Any) -> None:
            op, index, fp = segment[i]
            write_rows_atomic(storage.step_path(index), out_rows, storage.cache_type)
            if sharded:
                write_bytes_atomic(storage.positions_path(index),
                                   json.dumps(stats.positions).encode("utf-8"))
            counts = stats.as_dict()
            entry = _entry(op, index, fp, storage.step_path(index), done=True)
            entry.update({k: counts[k] for k in ("rows_in", "rows_out", "rejects", "seconds")})
            # rejects in their final order before the manifest calls the step done
            rejects.step_done(index)
            manifest.put(index, entry)
            manifest.save()
            storage.note_done(index, counts)

        async def run_then_close() -> None:
            try:
                await run_stream(steps, rows, concurrency=self.max_in_flight(storage),
                                 on_step_done=on_step_done, on_reject=on_reject,
                                 select=select, roots=roots)
            finally:
                # on this loop: the models' HTTP clients belong to it
                for op, _, _ in segment:
                    with contextlib.suppress(Exception):
                        await op.aclose()

        run_coroutine(run_then_close())


def _check_first_entry(storage: FileStorage, op: Operator) -> None:
    """An absent first entry file means "no rows" only to a step that creates its rows.

    For a step that transforms rows it is a mistyped path, which would otherwise finish
    "successfully" with nothing; checked before any earlier run's files are touched.
    """
    name = storage.first_entry_file_name
    if is_source(op) or not name:
        return
    if not Path(name).is_file():
        raise FileNotFoundError(
            f"first_entry_file_name not found: {name} (input of step 1, {op.step_name})")


def _segment_input(storage: FileStorage, first_op: Operator, first_index: int) -> list[Row]:
    """The rows a segment starting at ``first_index`` reads, checked for required keys."""
    if is_source(first_op) or not (first_index > 1 or storage.first_entry_file_name):
        return []
    path = storage.input_path(first_index)
    numbered = read_numbered_rows(path, storage.input_format(first_index),
                                  max_line_bytes=storage.max_line_bytes)
    validate_required(path, numbered, first_op.required_input_keys())
    return [row for _, row in numbered]


def _segments(todo: Sequence[Todo]) -> list[list[Todo]]:
    """Split before every source step after the first: a source ignores its input stream."""
    segments: list[list[Todo]] = []
    for item in todo:
        if not segments or is_source(item[0]):
            segments.append([item])
        else:
            segments[-1].append(item)
    return segments


def _entry(op: Operator, index: int, fingerprint: str, path: Path, *, done: bool) -> dict:
    return {
        "step": index,
        "operator": op.step_name,
        "keys": dict(op.keys),
        "fingerprint": fingerprint,
        "file": path.name,
        "done": done,
    }


def run_coroutine(coro: Any) -> Any:
    """Run a coroutine to completion, also when called from inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=target, name="sqlsynth-step")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result.get("value")


__all__ = ["ROWS_PER_LLM_SLOT", "PipelineExecutor", "run_coroutine"]
