"""The executor tests' scripted server, in its own process so that other processes (shard
processes, Ray workers) reach it over loopback exactly as they would a real endpoint."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

_SERVER = """
import sys
from sqlsynth.testing import ScriptedOpenAIServer
from sqlsynth.testing.pipeline_responder import PipelineResponder
server = ScriptedOpenAIServer(PipelineResponder()).start()
print(server.base_url, flush=True)
sys.stdin.read()
"""


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-c", _SERVER], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        yield proc.stdout.readline().strip()
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
