"""``FileStorage``: step files on disk, a manifest for resuming, and the rejects file.

Reference-compatible: ``FileStorage(first_entry_file_name, cache_path, file_name_prefix,
cache_type)`` and ``op.run(storage=storage.step(), ...)``. Step k reads the first entry file
(k = 1) or step k-1's file and writes ``{cache_path}/{prefix}_step{k}.{cache_type}``.

Outside ``streaming()`` a ``run()`` executes its step at once. Inside it, runs are only
recorded; on leaving the block they execute as one stream (see ``sqlsynth.pipelines.runner``).
Either way the files are identical, and a rerun reuses every step whose manifest entry is done
and whose fingerprint (input, seed and the configuration of it and every earlier step) matches.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlsynth.operators.base import Operator, Reject, Row, StepContext
from sqlsynth.storage.atomic import remove_stale_temp_files, write_bytes_atomic
from sqlsynth.storage.fingerprint import describe_operator, digest, file_digest
from sqlsynth.storage.formats import (
    DEFAULT_MAX_LINE_BYTES,
    check_format,
    format_for,
    read_numbered_rows,
    read_rows,
    validate_required,
    write_rows_atomic,
)
from sqlsynth.storage.manifest import Manifest
from sqlsynth.storage.rejects import RejectsLog

#: rows in flight per unit of LLM concurrency when a concurrency is given. Generous on purpose:
#: admitting rows late leaves a tail of sequential LLM calls at the end of the run
#: (bench/pipeline.py: 4 per slot gave 1.12x the latency bound, 32 per slot 1.06x); a row in
#: flight costs only its dict.
ROWS_PER_LLM_SLOT = 32


class StorageStep:
    """The handle ``storage.step()`` returns; operators call ``run_operator`` on it."""

    def __init__(self, storage: FileStorage, index: int) -> None:
        self.storage = storage
        self.index = index

    @property
    def input_path(self) -> Path:
        return self.storage.input_path(self.index)

    @property
    def output_path(self) -> Path:
        return self.storage.step_path(self.index)

    def read(self, output_type: str | None = None) -> Any:
        """This step's input rows (empty for a missing or empty first entry file).

        The reference's contract: ``read("dataframe")`` gives a pandas DataFrame and
        ``read("dict")`` a list of dicts (also the default). Inside ``streaming()`` the steps
        recorded so far run first, since this step needs their whole output.
        """
        if output_type not in (None, "dict", "dataframe"):
            raise ValueError(f"read(): output_type must be 'dataframe' or 'dict', "
                             f"got {output_type!r}")
        self.storage._flush_recorded()
        rows = self.storage.read_input(self.index)
        if output_type == "dataframe":
            from sqlsynth.storage.dataframe import rows_to_dataframe

            return rows_to_dataframe(rows)
        return rows

    def write(self, data: Any) -> str:
        """The reference's contract: store a DataFrame (or list of dicts) as this step's file.

        The step counts as done in the manifest, so the next steps read it and resume after it;
        returns the file's path.
        """
        from sqlsynth.storage.dataframe import dataframe_to_rows

        rows = data if isinstance(data, list) else dataframe_to_rows(data)
        self.storage._store_whole_step(self.index, rows)
        return str(self.output_path)

    def run_operator(self, op: Operator) -> None:
        self.storage._submit(op, self.index)

    def __repr__(self) -> str:
        return f"StorageStep({self.index}, {str(self.output_path)!r})"


class FileStorage:
    """Step files, manifest, rejects and per-step statistics of one run folder."""

    def __init__(
        self,
        first_entry_file_name: str,
        cache_path: str = "./cache",
        file_name_prefix: str = "dataflow_cache_step",
        cache_type: str = "jsonl",
        *,
        seed: int = 42,
        concurrency: int | None = None,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        select: Callable[[Row], bool] | None = None,
    ) -> None:
        self.first_entry_file_name = first_entry_file_name
        self.cache_path = cache_path
        self.file_name_prefix = file_name_prefix
        self.cache_type = check_format(cache_type)
        self.seed = seed
        self.concurrency = concurrency
        self.max_line_bytes = max_line_bytes
        #: a shard's share of the rows (``sqlsynth.executors.shard``): only rows it accepts are
        #: processed, and every step file gets a positions file so shards can be merged
        self.select = select
        self._last_index = 0
        self._recorded: list[tuple[Operator, int]] | None = None
        self._summary: dict[int, dict[str, Any]] = {}
        self._fingerprints: dict[int, str] = {}

    # ------------------------------------------------------------------ paths and reading

    @property
    def cache_dir(self) -> Path:
        return Path(self.cache_path)

    def step_path(self, index: int) -> Path:
        return self.cache_dir / f"{self.file_name_prefix}_step{index}.{self.cache_type}"

    def positions_path(self, index: int) -> Path:
        """A shard's sidecar of step ``index``: each output row's position in the whole run."""
        return self.cache_dir / f"{self.file_name_prefix}_step{index}.positions.json"

    def read_positions(self, index: int) -> list[tuple[int, ...]]:
        text = self.positions_path(index).read_text(encoding="utf-8")
        return [tuple(p) for p in json.loads(text)]

    @property
    def manifest_path(self) -> Path:
        return self.cache_dir / f"{self.file_name_prefix}_manifest.json"

    @property
    def rejects_path(self) -> Path:
        return self.cache_dir / f"{self.file_name_prefix}_rejects.jsonl"

    def input_path(self, index: int) -> Path:
        if index <= 1:
            return Path(self.first_entry_file_name) if self.first_entry_file_name else Path()
        return self.step_path(index - 1)

    def _input_format(self, index: int) -> str:
        if index <= 1:
            return format_for(self.first_entry_file_name, self.cache_type)
        return self.cache_type

    def read_input(self, index: int) -> list[Row]:
        path = self.input_path(index)
        if index <= 1 and not self.first_entry_file_name:
            return []
        return read_rows(path, self._input_format(index), max_line_bytes=self.max_line_bytes)

    @property
    def max_in_flight(self) -> int:
        from sqlsynth.pipelines.runner import DEFAULT_MAX_IN_FLIGHT

        if self.concurrency:
            return max(1, ROWS_PER_LLM_SLOT * self.concurrency)
        return DEFAULT_MAX_IN_FLIGHT

    # ------------------------------------------------------------------ reference API

    def step(self) -> StorageStep:
        """The next step's handle: step 1 reads the first entry file, step k reads step k-1."""
        self._last_index += 1
        return StorageStep(self, self._last_index)

    @contextlib.contextmanager
    def streaming(self) -> Iterator[FileStorage]:
        """Record the ``run()`` calls inside the block; run them as one stream on exit."""
        if self._recorded is not None:
            raise RuntimeError("FileStorage.streaming() blocks cannot be nested")
        self._recorded = []
        try:
            yield self
        except BaseException:
            self._recorded = None
            raise
        recorded, self._recorded = self._recorded, None
        if recorded:
            self._execute(recorded)

    def adopt_manifest(self) -> None:
        """Take the per-step summary from the manifest, for steps other processes ran here."""
        for index, entry in Manifest(self.manifest_path).steps.items():
            self._summary[index] = {**_summary_of(entry), "resumed": False}

    def summary(self) -> list[dict[str, Any]]:
        """Per step: rows in/out, rejects by reason, seconds, and ``resumed`` for reused steps."""
        return [dict(self._summary[k]) for k in sorted(self._summary)]

    # ------------------------------------------------------------------ execution

    def _flush_recorded(self) -> None:
        """Run the steps recorded so far in ``streaming()`` (a whole-table step needs them)."""
        if self._recorded:
            recorded, self._recorded = self._recorded, []
            self._execute(recorded)

    def _store_whole_step(self, index: int, rows: list[Row]) -> None:
        """Write a step a reference-style operator produced, and mark it done."""
        if self.select is not None:
            raise ValueError(
                f"step {index}: a whole-table (read('dataframe') / write(df)) step cannot run in "
                "a shard: its rows carry no positions to merge by; run this pipeline locally")
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        manifest = Manifest(self.manifest_path)
        previous = self._base_fingerprint(index, manifest)
        write_rows_atomic(self.step_path(index), rows, self.cache_type)
        # later steps resume only while this step's output is the same
        fingerprint = digest(previous, "whole-table step", file_digest(self.step_path(index)))
        self._fingerprints[index] = fingerprint
        rows_in = len(self.read_input(index))
        manifest.put(index, {"step": index, "operator": "external", "keys": {},
                             "fingerprint": fingerprint, "file": self.step_path(index).name,
                             "done": True, "rows_in": rows_in, "rows_out": len(rows),
                             "rejects": {}, "seconds": 0.0})
        manifest.save()
        self._summary[index] = {"step": index, "name": "external", "rows_in": rows_in,
                                "rows_out": len(rows), "rejects": {}, "resumed": False}

    def _submit(self, op: Operator, index: int) -> None:
        if self._recorded is not None:
            self._recorded.append((op, index))
        else:
            self._execute([(op, index)])

    def _context(self, op: Operator, index: int) -> StepContext:
        return StepContext(step_index=index, step_name=op.step_name, seed=self.seed)

    def _check_first_entry(self, op: Operator) -> None:
        """An absent first entry file means "no rows" only to a step that creates its rows.

        For a step that transforms rows it is a mistyped path, which would otherwise finish
        "successfully" with nothing; checked before any earlier run's files are touched.
        """
        from sqlsynth.pipelines.runner import is_source

        if is_source(op) or not self.first_entry_file_name:
            return
        if not Path(self.first_entry_file_name).is_file():
            raise FileNotFoundError(
                f"first_entry_file_name not found: {self.first_entry_file_name} "
                f"(input of step 1, {op.step_name})"
            )

    def _base_fingerprint(self, first: int, manifest: Manifest) -> str:
        if first == 1:
            source = (
                file_digest(self.first_entry_file_name) if self.first_entry_file_name else "none"
            )
            return digest("input", source, self.seed, self.cache_type)
        if first - 1 in self._fingerprints:
            return self._fingerprints[first - 1]
        entry = manifest.entry(first - 1)
        if entry is None or not entry.get("done") or not self.step_path(first - 1).exists():
            raise RuntimeError(
                f"step {first} needs {self.step_path(first - 1)}, which no finished step wrote"
            )
        return str(entry["fingerprint"])

    def _execute(self, recorded: Sequence[tuple[Operator, int]]) -> None:
        indices = [index for _, index in recorded]
        if indices != list(range(indices[0], indices[0] + len(indices))):
            raise RuntimeError(f"steps must run in order without gaps, got {indices}")
        if indices[0] == 1:
            self._check_first_entry(recorded[0][0])
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        # what a write killed mid-way left behind (complete files were renamed into place)
        remove_stale_temp_files(self.cache_dir)
        manifest = Manifest(self.manifest_path)

        fingerprint = self._base_fingerprint(indices[0], manifest)
        todo: list[tuple[Operator, int, str]] = []
        for op, index in recorded:
            fingerprint = digest(fingerprint, op.step_name, op.keys, describe_operator(op))
            self._fingerprints[index] = fingerprint
            reusable = not todo and manifest.is_reusable(index, fingerprint, self.step_path(index))
            if reusable:
                entry = manifest.entry(index) or {}
                self._summary[index] = {**_summary_of(entry), "resumed": True}
            else:
                todo.append((op, index, fingerprint))
        if not todo:
            return

        first = todo[0][1]
        # the input is read (and checked) before anything of an earlier run is removed: a bad
        # input file is an error that leaves every finished step of that run in place
        first_rows = self._segment_input(todo[0][0], first)
        # files of this and later steps from an earlier run are stale from here on
        stale = {k for k in manifest.steps if k >= first} | {index for _, index, _ in todo}
        manifest.drop_from(first)
        for op, index, fp in todo:
            manifest.put(index, _entry(op, index, fp, self.step_path(index), done=False))
        manifest.save()
        for index in sorted(stale):
            self.step_path(index).unlink(missing_ok=True)
        rejects = RejectsLog(self.rejects_path)
        rejects.start(first)
        try:
            for number, segment in enumerate(_segments(todo)):
                self._run_segment(segment, manifest, rejects,
                                  first_rows if number == 0 else None)
        finally:
            rejects.finish()

    def _segment_input(self, first_op: Operator, first_index: int) -> list[Row]:
        """The rows a segment starting at ``first_index`` reads, checked for required keys."""
        from sqlsynth.pipelines.runner import is_source

        if is_source(first_op) or not (first_index > 1 or self.first_entry_file_name):
            return []
        path = self.input_path(first_index)
        numbered = read_numbered_rows(path, self._input_format(first_index),
                                      max_line_bytes=self.max_line_bytes)
        validate_required(path, numbered, first_op.required_input_keys())
        return [row for _, row in numbered]

    def _run_segment(
        self,
        segment: Sequence[tuple[Operator, int, str]],
        manifest: Manifest,
        rejects: RejectsLog,
        rows: list[Row] | None = None,
    ) -> None:
        from sqlsynth.pipelines.runner import StreamStep, is_source, run_stream

        first_op, first_index, _ = segment[0]
        steps = [StreamStep(op, self._context(op, index)) for op, index, _ in segment]
        if rows is None:
            rows = self._segment_input(first_op, first_index)
        select, roots = self.select, None
        if self.select is not None and first_index > 1 and not is_source(first_op):
            # this shard's own earlier step: its rows keep their positions in the run
            select, roots = None, self.read_positions(first_index - 1)

        def on_reject(i: int, position: tuple[int, ...], row: Row, reject: Reject) -> None:
            ctx = steps[i].ctx
            rejects.add(ctx.step_index, ctx.step_name, position, reject.reason, reject.detail,
                        row, with_position=self.select is not None)

        def on_step_done(i: int, out_rows: list[Row], stats: Any) -> None:
            op, index, fp = segment[i]
            write_rows_atomic(self.step_path(index), out_rows, self.cache_type)
            if self.select is not None:
                write_bytes_atomic(self.positions_path(index),
                                   json.dumps(stats.positions).encode("utf-8"))
            counts = stats.as_dict()
            entry = _entry(op, index, fp, self.step_path(index), done=True)
            entry.update({k: counts[k] for k in ("rows_in", "rows_out", "rejects", "seconds")})
            # rejects in their final order before the manifest calls the step done
            rejects.step_done(index)
            manifest.put(index, entry)
            manifest.save()
            self._summary[index] = {**counts, "resumed": False}

        async def run_then_close() -> None:
            try:
                await run_stream(steps, rows, concurrency=self.max_in_flight,
                                 on_step_done=on_step_done, on_reject=on_reject,
                                 select=select, roots=roots)
            finally:
                # on this loop: the models' HTTP clients belong to it
                for op, _, _ in segment:
                    with contextlib.suppress(Exception):
                        await op.aclose()

        _run_coroutine(run_then_close())


def _segments(
    todo: Sequence[tuple[Operator, int, str]],
) -> list[list[tuple[Operator, int, str]]]:
    """Split before every source step after the first: a source ignores its input stream."""
    from sqlsynth.pipelines.runner import is_source

    segments: list[list[tuple[Operator, int, str]]] = []
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


def _summary_of(entry: dict[str, Any]) -> dict[str, Any]:
    """The summary() view of a manifest entry (a step reused from an earlier run)."""
    out: dict[str, Any] = {"step": entry.get("step"), "name": entry.get("operator")}
    for key in ("rows_in", "rows_out", "rejects", "seconds"):
        if key in entry:
            out[key] = entry[key]
    return out


def _run_coroutine(coro: Any) -> Any:
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


__all__ = ["FileStorage", "StorageStep"]
