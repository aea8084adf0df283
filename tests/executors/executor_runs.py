"""Runs of the executor tests: one configuration, and the bytes that must not depend on how
a run was executed."""

from __future__ import annotations

from pathlib import Path

from sqlsynth.config import RunConfig
from sqlsynth.examples import example_file

SIZES = {"generate_num": 3, "num_variations": 2, "question_candidates": 2, "cot_samples": 3,
         "execution_generations": 3, "concurrency": 8, "seed": 7}


def run_config(out: Path, server_url: str, kind: str, **kw) -> RunConfig:
    values = dict(out=str(out), base_url=server_url, model="scripted",
                  embedding_model="scripted-emb", **SIZES)
    if kind == "refine":
        values["input"] = str(example_file("refine_input.jsonl"))
    values.update(kw)
    return RunConfig(**values)


def outputs(out: Path) -> dict[str, bytes]:
    """What a run leaves that must not depend on how it ran: steps, rejects, final file."""
    names = sorted(p.name for p in out.glob("sqlsynth_step*.jsonl"))
    names += ["sqlsynth_rejects.jsonl", "final.jsonl"]
    return {name: (out / name).read_bytes() for name in names}
