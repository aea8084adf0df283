"""A real run folder for the viewer and card tests: ``sqlsynth generate`` against the
scripted OpenAI-compatible server, on the bundled databases, built once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sqlsynth.cli import main
from sqlsynth.testing import ScriptedOpenAIServer
from sqlsynth.testing.pipeline_responder import PipelineResponder

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="session")
def built_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("viewer-run") / "run"
    with ScriptedOpenAIServer(PipelineResponder()) as server:
        code = main(["-q", "generate", "--base-url", server.base_url, "--model", "scripted",
                     "--embedding-model", "scripted-emb", "--num", "4",
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
