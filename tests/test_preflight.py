"""The preflight: every endpoint a run needs is checked before its first paid call."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlsynth.cli import main
from sqlsynth.config import RunConfig
from sqlsynth.errors import ExitCode
from sqlsynth.preflight import PreflightError, preflight, resolve_model
from sqlsynth.testing import ScriptedOpenAIServer
from sqlsynth.testing.pipeline_responder import PipelineResponder


def _cfg(server: ScriptedOpenAIServer, **kw: object) -> RunConfig:
    return RunConfig(base_url=server.base_url, llm_cache=False, **kw)  # type: ignore[arg-type]


def test_chat_only_server_fails_before_any_chat_call_and_names_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with ScriptedOpenAIServer(PipelineResponder(), serve_embeddings=False) as server:
        code = main(["generate", "--num", "2", "--out", str(tmp_path / "run"),
                     "--base-url", server.base_url, "--model", server.model_name])
        chat_calls = len(server.chat_requests)
    err = capsys.readouterr().err
    assert code == ExitCode.LLM_UNAVAILABLE
    assert chat_calls == 0
    assert "--embedding-base-url local" in err
    assert "Traceback" not in err
    assert err.count("embeddings endpoint") == 1  # said once


def test_chat_only_server_with_local_embeddings_passes(tmp_path: Path) -> None:
    with ScriptedOpenAIServer(serve_embeddings=False) as server:
        cfg, notes = preflight(_cfg(server, model=server.model_name, embedding_base_url="local"))
        assert not server.embedding_requests
    assert cfg.model == server.model_name
    assert any("chat" in n for n in notes)


def test_wrong_model_name_on_a_strict_server_lists_what_it_serves() -> None:
    with ScriptedOpenAIServer(models=["qwen-coder", "bge-small-embed"]) as server, \
            pytest.raises(PreflightError) as info:
        preflight(_cfg(server, model="gpt-4o-mini", embedding_base_url="local"))
    message = str(info.value)
    assert "'gpt-4o-mini' is not served" in message and "qwen-coder" in message
    assert "--model" in message


def test_wrong_embedding_model_is_named() -> None:
    with ScriptedOpenAIServer(models=["qwen-coder", "bge-small-embed"]) as server, \
            pytest.raises(PreflightError) as info:
        preflight(_cfg(server, model="qwen-coder", embedding_model="text-embedding-3-small"))
    assert "'text-embedding-3-small' is not served" in str(info.value)
    assert "--embedding-model" in str(info.value)


def test_no_model_name_takes_the_servers_only_model_of_each_kind() -> None:
    with ScriptedOpenAIServer(models=["qwen-coder", "bge-small-embed"]) as server:
        cfg, _ = preflight(_cfg(server))
        assert cfg.model == "qwen-coder" and cfg.embedding_model == "bge-small-embed"
        # the factory's clients of a config without names get the same names
        assert resolve_model("chat", server.base_url, _cfg(server)) == "qwen-coder"
        # and the requests it made used them
        assert server.embedding_requests[0]["body"]["model"] == "bge-small-embed"


def test_several_models_and_no_name_is_an_error_naming_the_flag() -> None:
    with ScriptedOpenAIServer(models=["qwen-7b", "llama-8b"]) as server, \
            pytest.raises(PreflightError) as info:
        preflight(_cfg(server, embedding_base_url="local"))
    assert "serves 2 models" in str(info.value) and "--model" in str(info.value)


def test_server_without_model_list_needs_the_name() -> None:
    with ScriptedOpenAIServer(serve_models=False) as server:
        with pytest.raises(PreflightError) as info:  # the server outlives it
            preflight(_cfg(server, embedding_base_url="local"))
        assert "--model" in str(info.value)
        # with a name, one tiny request checks it instead of the list
        _, notes = preflight(_cfg(server, model="any", embedding_base_url="local"))
        assert len(server.chat_requests) == 1
        assert server.chat_requests[0]["body"]["max_tokens"] == 1
    assert "answered" in notes[0]


def test_rejected_key_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("DF_API_KEY", raising=False)
    with ScriptedOpenAIServer(require_key="sekrit") as server, \
            pytest.raises(PreflightError) as info:
        preflight(_cfg(server, model=server.model_name))
    assert "API key" in str(info.value) and "OPENAI_API_KEY" in str(info.value)
    assert "sekrit" not in str(info.value)


def test_unreachable_server_says_so() -> None:
    from tests.servers import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(PreflightError) as info:
        preflight(RunConfig(base_url=url, model="m", llm_cache=False))
    assert "cannot reach" in str(info.value) and url in str(info.value)


def test_local_model_run_says_what_it_is_for(capsys: pytest.CaptureFixture[str]) -> None:
    from sqlsynth import factory

    factory._noted_local_model = False
    factory.note_local_model(RunConfig())
    factory.note_local_model(RunConfig())
    err = capsys.readouterr().err
    assert err.count("\n") == 1  # one line, once
    assert "--base-url" in err and "trying" in err


#: keys the pattern rules alone would miss (symbols, no "Bearer" before the prose echo)
ECHOED_KEYS = ("sk-pr0j+Zq9/x=Ab!c", "k3y~with.dots")


def _shows(text: str, key: str) -> bool:
    from tests.test_redaction import shapes

    return any(shape in text for shape in shapes(key))


@pytest.mark.parametrize("key", ECHOED_KEYS)
def test_no_message_shows_the_key_an_endpoint_echoes(
    key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    # every error body quotes the Authorization header, the bare key, URL-encoded, JSON and
    # base64: the preflight's refusal (CLI), its "could not be verified" notes and the
    # client's errors must show none of them
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setattr("sqlsynth.preflight._RETRY_DELAYS", (0.0,))
    with ScriptedOpenAIServer(models=["qwen-coder"], require_key=key,
                              echo_credentials=True) as server:
        code = main(["generate", "--num", "1", "--out", str(tmp_path / "run"), "-vv",
                     "--base-url", server.base_url, "--model", "not-served",
                     "--embedding-base-url", "local"])
        err = capsys.readouterr().err
        assert code == ExitCode.LLM_UNAVAILABLE and "not served" in err
        assert not _shows(err, key)
    with ScriptedOpenAIServer(require_key=key, echo_credentials=True,
                              serve_models=False) as server:
        server.inject("500", 2)
        _, notes = preflight(_cfg(server, model="m", embedding_base_url="local"))
        assert "could not be verified" in notes[0] and "has no access" in notes[0]
        assert not _shows(" ".join(notes), key)
        server.inject("503", 2)
        _, notes = preflight(_cfg(server, model="m", embedding_model="e"), chat=False)
        assert "embeddings: e" in notes[0] and "has no access" in notes[0]
        assert not _shows(" ".join(notes), key)
