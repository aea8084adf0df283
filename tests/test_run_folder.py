"""The run folder's claim, and what no file of a run folder may hold: a password or a key."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest

from sqlsynth.cli import main
from sqlsynth.run_folder import RUN_FILE, claim, read_claim
from sqlsynth.testing import ScriptedOpenAIServer
from sqlsynth.testing.pipeline_responder import PipelineResponder
from tests import servers
from tests.db import dataset

API_KEY = "sk-test-Zq7vNw3pXk9rLm2T"


def _secret_forms(secret: str) -> list[bytes]:
    """How a secret could appear in a file: as is, URL-quoted, JSON-escaped."""
    forms = {secret, quote(secret, safe=""), json.dumps(secret)[1:-1]}
    return [f.encode("utf-8") for f in forms]


def _files_holding(folder: Path, secrets: list[str]) -> list[str]:
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for secret in secrets:
            if any(form in data for form in _secret_forms(secret)):
                found.append(f"{path.relative_to(folder)} holds {secret!r}")
    return found


@pytest.fixture(scope="module")
def postgres() -> servers.Server:
    try:
        server = servers.start_postgres()
    except servers.ServerUnavailable as exc:
        servers.skip_or_fail(str(exc))
    try:
        dataset.load_postgres(server)
        yield server
    finally:
        server.stop()


@pytest.mark.servers
def test_no_password_or_key_in_any_file_of_a_run(
    postgres: servers.Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    url = (f"postgresql://{postgres.user}:{postgres.password}@{postgres.host}:{postgres.port}"
           f"/?databases={dataset.DB_ID}")
    out = tmp_path / "run"
    with ScriptedOpenAIServer(PipelineResponder()) as llm:
        args = ["generate", "--db", url, "--out", str(out), "--num", "2",
                "--base-url", llm.base_url, "--model", llm.model_name,
                "--embedding-model", "scripted-emb", "--question-candidates", "2",
                "--cot-samples", "2", "--execution-generations", "3"]
        assert main(args) in (0, 3)  # 3: no row survived; the folder is complete either way
        assert main(args) in (0, 3)  # the same command resumes its own folder
    written = {p.name for p in out.rglob("*") if p.is_file()}
    assert {RUN_FILE, "sqlsynth_runs.jsonl", "llm_cache.sqlite", "report.html"} <= written
    assert _files_holding(out, [postgres.password, API_KEY]) == []
    # the database is still identified: the same server, user and database, no password
    identity = read_claim(out)["identity"]
    assert identity["db"] == (f"postgresql://{postgres.user}:***@{postgres.host}:"
                              f"{postgres.port}/?databases={dataset.DB_ID}")


def test_a_claim_recorded_with_a_password_is_resumed_and_rewritten_without_it(
    tmp_path: Path,
) -> None:
    from sqlsynth.db.url import database_identity

    url = "postgresql://me:pa55word@127.0.0.1:5432/shop"
    (tmp_path / RUN_FILE).write_text(json.dumps(
        {"command": "generate", "identity": {"pipeline": "P", "db": url, "db_ids": []}}))
    claim(tmp_path, "generate", {"pipeline": "P", "db": database_identity(url), "db_ids": []})
    assert "pa55word" not in (tmp_path / RUN_FILE).read_text()
    assert read_claim(tmp_path)["identity"]["db"] == "postgresql://me:***@127.0.0.1:5432/shop"
