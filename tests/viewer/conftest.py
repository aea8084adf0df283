"""A real run folder for the viewer and card tests: ``sqlsynth generate`` against the
scripted OpenAI-compatible server, on the bundled databases, built once per session."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import pytest

from sqlsynth.cli import main
from sqlsynth.testing import ScriptedOpenAIServer
from sqlsynth.testing.pipeline_responder import PipelineResponder

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


class FlawedResponder(PipelineResponder):
    """The scripted model, wrong now and then (by a hash of the request, so reruns agree):
    some generated SQL names a missing table, and the judge rejects some questions, so the
    run has rejects at two steps with different reasons."""

    def answer(self, prompt: str, salt: Any) -> str:
        text = super().answer(prompt, salt)
        roll = int(hashlib.sha256(f"{prompt}|{salt}".encode()).hexdigest()[:8], 16) % 100
        if "VERDICT" in prompt and roll < 25:
            return "The question asks for something else.\nVERDICT: NO"
        generating = not any(m in prompt for m in ("<question>", "VERDICT", "Hint, a correct",
                                                   "Task: write a", "Original query:"))
        if generating and "```sql" in text and roll < 25:
            return "```sql\nSELECT * FROM table_that_is_not_there\n```"
        return text


@pytest.fixture(scope="session")
def built_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("viewer-run") / "run"
    with ScriptedOpenAIServer(FlawedResponder()) as server:
        code = main(["-q", "generate", "--base-url", server.base_url, "--model", "scripted",
                     "--embedding-model", "scripted-emb", "--num", "6",
                     "--question-candidates", "2", "--cot-samples", "2",
                     "--execution-generations", "3", "--concurrency", "8", "--out", str(out)])
    assert code == 0
    return out


@pytest.fixture
def run_dir(built_run: Path, tmp_path: Path) -> Path:
    """A private copy of the run folder: tests that mark rows do not see each other's marks."""
    copy = tmp_path / "run"
    shutil.copytree(built_run, copy)
    return copy


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Screenshots taken during the tests (tests/artifacts/, ignored by git)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
