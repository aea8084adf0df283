"""Shards: one deterministic share of a run per process, and the merge that joins them.

``--shard i/N`` keeps the rows whose ``db_id`` (or, without one, whose content) hashes to
``i``, so every row of a database lands in the same shard: duplicate checks, which compare
rows of one database, decide exactly as in one process. A shard runs the whole pipeline in its
own folder ``<out>/shard-i-of-N`` (its own manifest, rejects and LLM cache, so it resumes on
its own) and records, beside every step file, each row's position in the whole run. The merge
interleaves the shards' rows by those positions, which is the order one process would have
written, so the merged step files, rejects and final file are byte-identical to a local run.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlsynth.executors.base import PipelineExecutor
from sqlsynth.operators.base import Row

SHARD_DIR = re.compile(r"^shard-(\d+)-of-(\d+)$")


@dataclass(frozen=True)
class ShardSpec:
    """Shard ``index`` of ``count`` (0 <= index < count), sharding on column ``key``."""

    index: int
    count: int
    key: str = "db_id"

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"shard must be i/N with 0 <= i < N, got {self.index}/{self.count}")

    @classmethod
    def parse(cls, text: str) -> ShardSpec:
        """``"2/8"`` -> shard 2 of 8 (0-based, as job arrays number their tasks)."""
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not match:
            raise ValueError(f"--shard must look like i/N (e.g. 0/4), got {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    def owner(self, row: Row) -> int:
        """The shard a row belongs to: a stable hash, the same on every machine and run."""
        value = row.get(self.key)
        text = value if isinstance(value, str) else json.dumps(
            row, sort_keys=True, ensure_ascii=False, default=str)
        return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") % self.count

    def contains(self, row: Row) -> bool:
        return self.owner(row) == self.index

    def folder(self, out: str | Path) -> Path:
        return Path(out) / f"shard-{self.index}-of-{self.count}"


class ShardExecutor(PipelineExecutor):
    """Run one shard of a pipeline: the rows ``spec`` selects, each with its position in the
    whole run; the storage must be the shard's own folder."""

    def __init__(self, spec: ShardSpec, *, streaming: bool = True) -> None:
        super().__init__(streaming=streaming, select=spec.contains)
        self.spec = spec


def shard_config(cfg: Any, spec: ShardSpec, *, concurrency: int | None = None) -> Any:
    """The run configuration of one shard: its own folder (and with it its own LLM cache)."""
    values: dict[str, Any] = {"out": str(spec.folder(cfg.out))}
    if concurrency is not None:
        values["concurrency"] = concurrency
    return cfg.merged(values)


@dataclass(frozen=True)
class ShardRun:
    """What one shard's run hands back: its folder and the LLM usage it paid for (by the
    pipeline's model attribute: ``llm_serving``, ``embedding_serving``)."""

    folder: str
    usage: dict[str, dict[str, int]]


USAGE_MODELS = ("llm_serving", "embedding_serving")


def run_shard(pipeline_cls: Any, cfg: Any, spec: ShardSpec) -> ShardRun:
    """Build ``pipeline_cls`` for shard ``spec`` of ``cfg``'s run and run it.

    A plain function of picklable arguments, so a Ray task or a job-array process runs it.
    """
    pipeline = pipeline_cls(config=cfg)
    try:
        pipeline.forward(ShardExecutor(spec, streaming=getattr(pipeline, "streaming", True)))
    finally:
        pipeline.database_manager.close()
    usage = {}
    for name in USAGE_MODELS:
        stats = getattr(getattr(pipeline, name, None), "stats", None)
        if stats is not None:
            usage[name] = stats.snapshot()
    return ShardRun(str(cfg.out), usage)


def add_usage(pipeline: Any, runs: list[ShardRun]) -> None:
    """Count the shards' LLM usage on ``pipeline``'s own models (the driver paid nothing
    itself), so its run summary and run record show what the whole run cost."""
    for name in USAGE_MODELS:
        stats = getattr(getattr(pipeline, name, None), "stats", None)
        if stats is None:
            continue
        for run in runs:
            counts = run.usage.get(name)
            if counts:
                stats.add(**counts)


def _shard_folders(out: Path) -> list[Path]:
    found = [(m, p) for p in out.iterdir() if p.is_dir() and (m := SHARD_DIR.match(p.name))]
    if not found:
        raise FileNotFoundError(f"{out}: no shard-i-of-N folders to merge")
    counts = {int(m.group(2)) for m, _ in found}
    if len(counts) != 1:
        raise ValueError(f"{out}: shard folders of different runs ({sorted(counts)} shards)")
    count = counts.pop()
    by_index = {int(m.group(1)): p for m, p in found}
    missing = sorted(set(range(count)) - set(by_index))
    if missing:
        raise FileNotFoundError(f"{out}: shards {missing} of {count} have not run")
    return [by_index[i] for i in range(count)]


def _finished_steps(folder: Path, prefix: str) -> dict[int, dict[str, Any]]:
    from sqlsynth.storage.manifest import Manifest

    manifest = Manifest(folder / f"{prefix}_manifest.json")
    unfinished = sorted(k for k, e in manifest.steps.items() if not e.get("done"))
    if not manifest.steps or unfinished:
        raise RuntimeError(f"{folder}: shard not finished (steps {unfinished or 'none'} to run); "
                           "rerun it, it resumes")
    return manifest.steps


def merge_shards(out: str | Path, *, prefix: str = "sqlsynth", cache_type: str = "jsonl") -> Path:
    """Merge every ``shard-i-of-N`` folder of ``out`` into ``out``'s own step files.

    Writes each step's file, the rejects file and a manifest (rows and rejects summed), all in
    the order one process would have written them. Refuses when a shard is missing or
    unfinished. Returns ``out``.
    """
    from sqlsynth.storage import FileStorage
    from sqlsynth.storage.atomic import write_bytes_atomic
    from sqlsynth.storage.formats import read_rows, write_rows_atomic
    from sqlsynth.storage.manifest import Manifest

    out = Path(out)
    folders = _shard_folders(out)
    shards = [FileStorage("", str(f), prefix, cache_type) for f in folders]
    entries = [_finished_steps(f, prefix) for f in folders]
    steps = sorted(entries[0])
    if any(sorted(e) != steps for e in entries):
        raise RuntimeError(f"{out}: shards ran different steps; rerun them with one config")
    target = FileStorage("", str(out), prefix, cache_type)
    manifest = Manifest(target.manifest_path)
    manifest.steps = {}
    for step in steps:
        streams = []
        for n, shard in enumerate(shards):
            rows = read_rows(shard.step_path(step), cache_type)
            positions = shard.read_positions(step)
            if len(positions) != len(rows):
                raise RuntimeError(f"{shard.step_path(step)}: rows and positions disagree")
            streams.append([(pos, n, k, row) for k, (pos, row) in enumerate(zip(positions, rows))])
        merged = [item[3] for item in heapq.merge(*streams, key=lambda t: t[:3])]
        write_rows_atomic(target.step_path(step), merged, cache_type)
        manifest.put(step, _merged_entry([e[step] for e in entries]))
    write_bytes_atomic(target.rejects_path, _merged_rejects(shards))
    manifest.save()
    return out


def _merged_entry(entries: list[dict[str, Any]]) -> dict[str, Any]:
    merged = dict(entries[0])
    for key in ("rows_in", "rows_out"):
        merged[key] = sum(int(e.get(key, 0)) for e in entries)
    rejects: dict[str, int] = {}
    for entry in entries:
        for reason, count in (entry.get("rejects") or {}).items():
            rejects[reason] = rejects.get(reason, 0) + int(count)
    merged["rejects"] = dict(sorted(rejects.items()))
    merged["seconds"] = max(float(e.get("seconds", 0.0)) for e in entries)
    return merged


def _merged_rejects(shards: list[Any]) -> bytes:
    """Every shard's reject lines in (step, position) order, without the position field."""
    records = []
    for shard in shards:
        try:
            text = shard.rejects_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        for line in text.splitlines():
            if line.strip():
                record = json.loads(line)
                position = tuple(record.pop("position", ()))
                records.append((int(record["step"]), position, record))
    records.sort(key=lambda t: (t[0], t[1]))
    return "".join(
        json.dumps(r, ensure_ascii=False, default=str) + "\n" for _, _, r in records
    ).encode("utf-8")
