"""Runs of the executor tests: one configuration, one way to run a pipeline, and the bytes
that must not depend on how a run was executed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlsynth.config import RunConfig
from sqlsynth.examples import example_file
from sqlsynth.pipelines import Text2SQLGeneration_APIPipeline, Text2SQLRefine_APIPipeline
from sqlsynth.storage.final import write_final

SIZES = {"generate_num": 3, "num_variations": 2, "question_candidates": 2, "cot_samples": 3,
         "execution_generations": 3, "concurrency": 8, "seed": 7}
PIPELINES = {"generate": Text2SQLGeneration_APIPipeline, "refine": Text2SQLRefine_APIPipeline}


def run_config(out: Path, server_url: str, kind: str, **kw) -> RunConfig:
    values = dict(out=str(out), base_url=server_url, model="scripted",
                  embedding_model="scripted-emb", **SIZES)
    if kind == "refine":
        values["input"] = str(example_file("refine_input.jsonl"))
    values.update(kw)
    return RunConfig(**values)


def run_pipeline(kind: str, out: Path, server_url: str, executor: Any) -> dict[str, int]:
    """One whole run of ``kind`` with ``executor``, final file included; returns the LLM
    requests the run's summary counts (chat and embeddings)."""
    pipeline = PIPELINES[kind](config=run_config(out, server_url, kind))
    pipeline.forward(executor)
    write_final(out, "sqlsynth", "jsonl")
    summary = pipeline.summary()
    assert [s["step"] for s in summary] == list(range(1, len(pipeline.steps()) + 1))
    return {name: getattr(pipeline, name).stats.snapshot()["requests"]
            for name in ("llm_serving", "embedding_serving")}


def outputs(out: Path) -> dict[str, bytes]:
    """What a run leaves that must not depend on how it ran: steps, rejects, final file."""
    names = sorted(p.name for p in out.glob("sqlsynth_step*.jsonl"))
    names += ["sqlsynth_rejects.jsonl", "final.jsonl"]
    return {name: (out / name).read_bytes() for name in names}
