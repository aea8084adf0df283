"""``FileStorage``: step files on disk, a manifest for resuming, and the rejects file.

Reference-compatible: ``FileStorage(first_entry_file_name, cache_path, file_name_prefix,
cache_type)`` and ``op.run(storage=storage.step(), ...)``. Step k reads the first entry file
(k = 1) or step k-1's file and writes ``{cache_path}/{prefix}_step{k}.{cache_type}``.

The storage stores; an executor runs (``sqlsynth.executors.base``: what is done, what to
reuse, the stream). Outside ``streaming()`` a ``run()`` hands its step to the executor at once;
inside it, runs are only recorded, and on leaving the block they are handed over as one stream.
Either way the files are identical, and a rerun reuses every step whose manifest entry is done
and whose fingerprint (input, seed and the configuration of it and every earlier step) matches.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlsynth.storage.fingerprint import digest, file_digest
from sqlsynth.storage.formats import (
    DEFAULT_MAX_LINE_BYTES,
    check_format,
    format_for,
    read_rows,
    write_rows_atomic,
)
from sqlsynth.storage.manifest import Manifest

if TYPE_CHECKING:
    from sqlsynth.executors.base import PipelineExecutor
    from sqlsynth.operators.base import Operator, Row


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
    ) -> None:
        self.first_entry_file_name = first_entry_file_name
        self.cache_path = cache_path
        self.file_name_prefix = file_name_prefix
        self.cache_type = check_format(cache_type)
        self.seed = seed
        self.concurrency = concurrency
        self.max_line_bytes = max_line_bytes
        self._last_index = 0
        self._recorded: list[tuple[Operator, int]] | None = None
        self._summary: dict[int, dict[str, Any]] = {}
        #: each step's fingerprint in this process (the executor computes them)
        self.fingerprints: dict[int, str] = {}
        self._executor: PipelineExecutor | None = None

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

    def input_format(self, index: int) -> str:
        if index <= 1:
            return format_for(self.first_entry_file_name, self.cache_type)
        return self.cache_type

    def read_input(self, index: int) -> list[Row]:
        path = self.input_path(index)
        if index <= 1 and not self.first_entry_file_name:
            return []
        return read_rows(path, self.input_format(index), max_line_bytes=self.max_line_bytes)

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
            self._hand_off(recorded)

    @contextlib.contextmanager
    def executed_by(self, executor: PipelineExecutor) -> Iterator[FileStorage]:
        """Inside the block, the steps this storage is given are run by ``executor``."""
        previous, self._executor = self._executor, executor
        try:
            yield self
        finally:
            self._executor = previous

    def _hand_off(self, recorded: Sequence[tuple[Operator, int]]) -> None:
        """Give steps to the executor running this storage. Without one (the reference's
        eager ``op.run(storage=storage.step())``) a local executor runs them: the one place
        the storage names the executors, imported only then."""
        executor = self._executor
        if executor is None:
            from sqlsynth.executors.local import LocalExecutor

            executor = LocalExecutor()
        executor.execute(self, recorded)

    @property
    def sharded(self) -> bool:
        """Whether the executor running this storage keeps only a share of the rows."""
        return getattr(self._executor, "select", None) is not None

    def adopt_manifest(self) -> None:
        """Take the per-step summary from the manifest, for steps other processes ran here."""
        for index, entry in Manifest(self.manifest_path).steps.items():
            self._summary[index] = {**_summary_of(entry), "resumed": False}

    def summary(self) -> list[dict[str, Any]]:
        """Per step: rows in/out, rejects by reason, seconds, and ``resumed`` for reused steps."""
        return [dict(self._summary[k]) for k in sorted(self._summary)]

    def note_resumed(self, index: int, entry: dict[str, Any]) -> None:
        """Step ``index`` was reused from an earlier run (its manifest ``entry``)."""
        self._summary[index] = {**_summary_of(entry), "resumed": True}

    def note_done(self, index: int, counts: dict[str, Any]) -> None:
        """Step ``index`` ran in this process: its counts for ``summary()``."""
        self._summary[index] = {**counts, "resumed": False}

    # ------------------------------------------------------------------ hand-off to the executor

    def _flush_recorded(self) -> None:
        """Run the steps recorded so far in ``streaming()`` (a whole-table step needs them)."""
        if self._recorded:
            recorded, self._recorded = self._recorded, []
            self._hand_off(recorded)

    def _store_whole_step(self, index: int, rows: list[Row]) -> None:
        """Write a step a reference-style operator produced, and mark it done."""
        if self.sharded:
            raise ValueError(
                f"step {index}: a whole-table (read('dataframe') / write(df)) step cannot run in "
                "a shard: its rows carry no positions to merge by; run this pipeline locally")
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        manifest = Manifest(self.manifest_path)
        previous = self.base_fingerprint(index, manifest)
        write_rows_atomic(self.step_path(index), rows, self.cache_type)
        # later steps resume only while this step's output is the same
        fingerprint = digest(previous, "whole-table step", file_digest(self.step_path(index)))
        self.fingerprints[index] = fingerprint
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
            self._hand_off([(op, index)])

    def base_fingerprint(self, first: int, manifest: Manifest) -> str:
        """What step ``first``'s fingerprint chains from: the input file, or the step before."""
        if first == 1:
            source = (
                file_digest(self.first_entry_file_name) if self.first_entry_file_name else "none"
            )
            return digest("input", source, self.seed, self.cache_type)
        if first - 1 in self.fingerprints:
            return self.fingerprints[first - 1]
        entry = manifest.entry(first - 1)
        if entry is None or not entry.get("done") or not self.step_path(first - 1).exists():
            raise RuntimeError(
                f"step {first} needs {self.step_path(first - 1)}, which no finished step wrote"
            )
        return str(entry["fingerprint"])


def _summary_of(entry: dict[str, Any]) -> dict[str, Any]:
    """The summary() view of a manifest entry (a step reused from an earlier run)."""
    out: dict[str, Any] = {"step": entry.get("step"), "name": entry.get("operator")}
    for key in ("rows_in", "rows_out", "rejects", "seconds"):
        if key in entry:
            out[key] = entry[key]
    return out


__all__ = ["FileStorage", "StorageStep"]
