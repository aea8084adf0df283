"""Shared by the executor tests: a scripted server in its own process, runs and their bytes.

The server runs in a child process so that processes other than the test's (shard processes,
Ray workers) reach it over loopback exactly as they would a real endpoint.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sqlsynth.config import RunConfig
from sqlsynth.examples import example_file

_SERVER = """
import sys
from sqlsynth.testing import ScriptedOpenAIServer
from sqlsynth.testing.pipeline_responder import PipelineResponder
server = ScriptedOpenAIServer(PipelineResponder()).start()
print(server.base_url, flush=True)
sys.stdin.read()
"""

SIZES = {"generate_num": 3, "num_variations": 2, "question_candidates": 2, "cot_samples": 3,
         "execution_generations": 3, "concurrency": 8, "seed": 7}


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-c", _SERVER], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        yield proc.stdout.readline().strip()
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


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
