"""Configuration, the reference-compatible serving class and the backend factories."""

from __future__ import annotations

import pytest

from sqlsynth.llm import (
    APILLMServing_request,
    ChatModel,
    EmbeddingModel,
    LLMConfigError,
    LLMUnavailableError,
    LocalChat,
    LocalEmbeddings,
    OpenAIChat,
    OpenAIEmbeddings,
    default_chat_model,
    default_embedding_model,
)
from sqlsynth.llm.config import is_loopback, resolve_api_key, split_endpoint


def test_split_endpoint():
    assert split_endpoint("https://api.x.com/v1/chat/completions") == \
        ("https://api.x.com/v1", "chat")
    assert split_endpoint("https://api.x.com/v1/embeddings/") == ("https://api.x.com/v1",
                                                                  "embeddings")
    assert split_endpoint("http://127.0.0.1:8000/v1") == ("http://127.0.0.1:8000/v1", None)


def test_api_key_lookup(monkeypatch):
    for name in ("OPENAI_API_KEY", "DF_API_KEY", "MY_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert is_loopback("http://localhost:8000/v1") and is_loopback("http://[::1]:1/v1")
    assert not is_loopback("https://api.openai.com/v1")
    assert resolve_api_key("http://127.0.0.1:9/v1") == "EMPTY"
    with pytest.raises(LLMConfigError, match="OPENAI_API_KEY"):
        resolve_api_key("https://api.openai.com/v1")
    monkeypatch.setenv("DF_API_KEY", "from-df")
    assert resolve_api_key("https://api.openai.com/v1") == "from-df"
    monkeypatch.setenv("OPENAI_API_KEY", "from-openai")
    assert resolve_api_key("https://api.openai.com/v1") == "from-openai"
    assert resolve_api_key("https://x/v1", key_env="DF_API_KEY") == "from-df"
    monkeypatch.setenv("MY_KEY", "mine")
    assert resolve_api_key("https://x/v1", key_env="MY_KEY") == "mine"
    assert resolve_api_key("https://x/v1", api_key="explicit") == "explicit"


def test_reference_chat_serving(openai_server_factory, monkeypatch):
    server = openai_server_factory(require_key="df-key")
    monkeypatch.setenv("DF_API_KEY", "df-key")
    serving = APILLMServing_request(api_url=server.base_url + "/chat/completions",
                                    model_name="gpt-test", max_workers=4, cache=None)
    assert isinstance(serving, ChatModel)
    answers = serving.generate_from_input(["first", "second"], system_prompt="be terse")
    assert answers == ["echo[None:0] first", "echo[None:0] second"]
    bodies = [r["body"] for r in server.chat_requests]
    assert all(b["model"] == "gpt-test" for b in bodies)
    assert all(b["messages"][0] == {"role": "system", "content": "be terse"} for b in bodies)
    assert serving.stats.snapshot()["requests"] == 2
    with pytest.raises(TypeError, match="embeddings"):
        serving.generate_embedding_from_input(["x"])
    serving.close()


def test_reference_embedding_serving(openai_server):
    serving = APILLMServing_request(api_url=openai_server.base_url + "/embeddings",
                                    model_name="text-embedding-test", max_workers=2, cache=None)
    assert isinstance(serving, EmbeddingModel)
    vectors = serving.generate_embedding_from_input(["a", "b"])
    assert len(vectors) == 2 and len(vectors[0]) == 32
    assert openai_server.embedding_requests[0]["body"]["model"] == "text-embedding-test"


def test_generate_from_input_on_error(openai_server):
    serving = APILLMServing_request(api_url=openai_server.base_url + "/chat/completions",
                                    model_name="m", cache=None)

    def picky(body):
        if "bad" in body["messages"][-1]["content"]:
            raise ValueError("cannot answer")
        return "ok"

    openai_server.responder = picky
    assert serving.generate_from_input(["good", "bad"], on_error="empty") == ["ok", ""]
    with pytest.raises(Exception, match="HTTP 400"):
        serving.generate_from_input(["bad"])


def test_unreachable_reference_serving_raises_unavailable():
    serving = APILLMServing_request(api_url="http://127.0.0.1:9/v1/chat/completions",
                                    model_name="m", cache=None)
    with pytest.raises(LLMUnavailableError, match="127.0.0.1:9"):
        serving.generate_from_input(["a"] * 20)


def test_factories_pick_server_or_local(openai_server, monkeypatch):
    chat = default_chat_model(base_url=openai_server.base_url, model="m", temperature=0.2,
                              n_ctx=512)  # n_ctx is for local models and is ignored here
    assert isinstance(chat, OpenAIChat) and chat.defaults.temperature == 0.2
    monkeypatch.setenv("SQLSYNTH_BASE_URL", openai_server.base_url + "/chat/completions")
    monkeypatch.setenv("SQLSYNTH_MODEL", "env-model")
    from_env = default_chat_model(cache=None)
    assert isinstance(from_env, OpenAIChat) and from_env.model == "env-model"
    assert from_env.base_url == openai_server.base_url
    assert from_env.chat([{"role": "user", "content": "hi"}]) == ["echo[None:0] hi"]
    with pytest.raises(LLMConfigError, match="SQLSYNTH_EMBEDDING_MODEL"):
        default_embedding_model()
    monkeypatch.setenv("SQLSYNTH_EMBEDDING_MODEL", "e")
    assert isinstance(default_embedding_model(), OpenAIEmbeddings)
    monkeypatch.delenv("SQLSYNTH_BASE_URL")
    local = default_chat_model(temperature=0.1, timeout=3)  # timeout is for servers
    assert isinstance(local, LocalChat) and local.model.endswith(".gguf")
    assert isinstance(default_embedding_model(), LocalEmbeddings)
