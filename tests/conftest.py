"""Fixtures shared by the whole suite.

Every test gets its own LLM cache directory and no configured LLM server, so nothing leaks
between tests or from the developer's environment. ``openai_server`` is a scripted
OpenAI-compatible server over real HTTP; ``scripted_chat`` / ``scripted_embeddings`` are
clients already pointed at it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sqlsynth.testing import ScriptedOpenAIServer


@pytest.fixture(autouse=True)
def _isolated_llm_env(tmp_path_factory: pytest.TempPathFactory,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQLSYNTH_CACHE_DIR", str(tmp_path_factory.mktemp("llm-cache")))
    for name in ("SQLSYNTH_BASE_URL", "OPENAI_BASE_URL", "SQLSYNTH_MODEL",
                 "SQLSYNTH_EMBEDDING_MODEL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _fresh_answered_endpoints() -> None:
    """No endpoint has answered yet when a test starts: the client remembers, per process,
    which base URLs ever answered (that turns a timeout into an outage instead of a black
    hole), and a test's new server can reuse an earlier test's port."""
    from sqlsynth.llm import openai_client

    openai_client._ANSWERED_URLS.clear()


@pytest.fixture
def openai_server_factory() -> Iterator[Callable[..., ScriptedOpenAIServer]]:
    """Start scripted servers with any options: ``factory(responder, latency=0.1, ...)``."""
    servers: list[ScriptedOpenAIServer] = []

    def start(*args: Any, **kw: Any) -> ScriptedOpenAIServer:
        server = ScriptedOpenAIServer(*args, **kw).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def openai_server(openai_server_factory: Callable[..., ScriptedOpenAIServer]
                  ) -> ScriptedOpenAIServer:
    """A scripted server with the echo responder; set ``.responder`` to script answers."""
    return openai_server_factory()


@pytest.fixture
async def scripted_chat(openai_server: ScriptedOpenAIServer, tmp_path: Any) -> Any:
    from sqlsynth.llm import OpenAIChat

    chat = OpenAIChat("scripted-model", base_url=openai_server.base_url,
                      cache=tmp_path / "chat-cache.sqlite", timeout=10.0)
    yield chat
    await chat.aclose()


@pytest.fixture
async def scripted_embeddings(openai_server: ScriptedOpenAIServer, tmp_path: Any) -> Any:
    from sqlsynth.llm import OpenAIEmbeddings

    embeddings = OpenAIEmbeddings("scripted-embedding", base_url=openai_server.base_url,
                                  cache=tmp_path / "embedding-cache.sqlite", timeout=10.0)
    yield embeddings
    await embeddings.aclose()
