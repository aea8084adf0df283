"""Reference-style serving objects and the factories that pick a backend.

``APILLMServing_request`` keeps the reference pipeline's constructor and methods working; it
is a thin facade over ``OpenAIChat`` / ``OpenAIEmbeddings`` (chosen by the URL's suffix), so
it also satisfies the ChatModel / EmbeddingModel protocols. ``LocalModelServing`` does the
same over the in-process models.
"""

from __future__ import annotations

import inspect
import logging
import os
from typing import Any

from sqlsynth.llm.base import ChatModel, EmbeddingModel, gather_or_cancel, run_sync
from sqlsynth.llm.cache import DEFAULT_CACHE
from sqlsynth.llm.config import REFERENCE_KEY_ENV, configured_base_url, split_endpoint
from sqlsynth.llm.errors import LLMConfigError, LLMError, LLMUnavailableError
from sqlsynth.llm.stats import UsageStats

log = logging.getLogger("sqlsynth.llm")

CHAT_MODEL_ENVS = ("SQLSYNTH_MODEL", "SQLSYNTH_CHAT_MODEL")
EMBEDDING_MODEL_ENVS = ("SQLSYNTH_EMBEDDING_MODEL",)


def _messages(system_prompt: str, user_input: str) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    messages.append({"role": "user", "content": user_input})
    return messages


class _ServingFacade:
    """The reference methods and the protocols, over a chat model and/or an embedding model."""

    _chat: ChatModel | None
    _embeddings: EmbeddingModel | None
    model: str
    stats: UsageStats

    def _need_chat(self) -> ChatModel:
        if self._chat is None:
            raise TypeError(f"{self!r} serves embeddings; chat needs a .../chat/completions URL")
        return self._chat

    def _need_embeddings(self) -> EmbeddingModel:
        if self._embeddings is None:
            raise TypeError(f"{self!r} serves chat; embeddings need a .../embeddings URL")
        return self._embeddings

    async def achat(self, messages: list[dict], **kw: Any) -> list[str]:
        return await self._need_chat().achat(messages, **kw)

    def chat(self, messages: list[dict], **kw: Any) -> list[str]:
        return run_sync(self.achat(messages, **kw))

    async def aembed(self, texts: list[str]) -> list[list[float]]:
        return await self._need_embeddings().aembed(texts)

    def embed(self, texts: list[str]) -> list[list[float]]:
        return run_sync(self.aembed(texts))

    async def agenerate_from_input(self, user_inputs: list[str], system_prompt: str = "", *,
                                   on_error: str = "raise", **kw: Any) -> list[str]:
        """One answer per input, all asked concurrently (bounded by the model).

        ``on_error="empty"`` turns a failed item into "" (logged); an unavailable server
        always raises.
        """
        if on_error not in ("raise", "empty"):
            raise ValueError("on_error must be 'raise' or 'empty'")
        chat = self._need_chat()

        async def one(text: str) -> str:
            try:
                return (await chat.achat(_messages(system_prompt, text), **kw))[0]
            except LLMUnavailableError:
                raise
            except LLMError as exc:
                if on_error == "raise":
                    raise
                log.warning("answer left empty: %s", exc)
                return ""

        return await gather_or_cancel(one(t) for t in user_inputs)

    def generate_from_input(self, user_inputs: list[str], system_prompt: str = "",
                            **kw: Any) -> list[str]:
        return run_sync(self.agenerate_from_input(list(user_inputs), system_prompt, **kw))

    async def agenerate_embedding_from_input(self, texts: list[str]) -> list[list[float]]:
        return await self.aembed(list(texts))

    def generate_embedding_from_input(self, texts: list[str]) -> list[list[float]]:
        return run_sync(self.aembed(list(texts)))

    async def aclose(self) -> None:
        for part in (self._chat, self._embeddings):
            if part is not None:
                await part.aclose()  # type: ignore[attr-defined]

    def close(self) -> None:
        run_sync(self.aclose())


class APILLMServing_request(_ServingFacade):
    """Reference-compatible client of an OpenAI-compatible server.

    ``api_url`` is the full endpoint (``.../v1/chat/completions`` or ``.../v1/embeddings``);
    ``max_workers`` bounds the requests in flight; the key is read from
    ``key_name_of_api_key`` (then OPENAI_API_KEY). Other keywords go to OpenAIChat /
    OpenAIEmbeddings (temperature, seed, extra_body, timeout, cache, batch_size, ...).
    """

    def __init__(self, api_url: str, model_name: str = "gpt-4o", max_workers: int = 10, *,
                 key_name_of_api_key: str = REFERENCE_KEY_ENV, kind: str | None = None,
                 **kw: Any) -> None:
        from sqlsynth.llm.openai_client import OpenAIChat, OpenAIEmbeddings

        base_url, url_kind = split_endpoint(api_url)
        self.kind = kind or url_kind or "chat"
        if self.kind not in ("chat", "embeddings"):
            raise LLMConfigError(f"kind must be 'chat' or 'embeddings', got {self.kind!r}")
        self.api_url = api_url
        self.base_url = base_url
        self.model = model_name
        common = {"base_url": base_url, "api_key_env": key_name_of_api_key,
                  "max_concurrency": max_workers}
        self._chat = self._embeddings = None
        if self.kind == "chat":
            self._chat = OpenAIChat(model_name, **common, **kw)
            self.stats = self._chat.stats
        else:
            self._embeddings = OpenAIEmbeddings(model_name, **common, **kw)
            self.stats = self._embeddings.stats

    def __repr__(self) -> str:
        return f"APILLMServing_request(api_url={self.api_url!r}, model_name={self.model!r})"


class LocalModelServing(_ServingFacade):
    """Reference-style serving over the in-process models: chat and embeddings, no server.

    Both parts load lazily, so a chat-only run never loads the embedding model.
    """

    def __init__(self, model_path: str | None = None, backend: str = "auto", *,
                 embedding_model_dir: str | None = None, max_workers: int | None = None,
                 stats: UsageStats | None = None, cache: Any = DEFAULT_CACHE,
                 **chat_kw: Any) -> None:
        from sqlsynth.llm.cache import ResponseCache, open_cache
        from sqlsynth.llm.local import LocalChat, LocalEmbeddings

        del max_workers  # accepted for symmetry; local generation runs one at a time
        self.stats = stats if stats is not None else UsageStats()
        shared: ResponseCache | None = open_cache(cache)  # one connection for both parts
        self._chat = LocalChat(model_path, backend, stats=self.stats, cache=shared, **chat_kw)
        self._embeddings = LocalEmbeddings(embedding_model_dir, stats=self.stats, cache=shared)
        self.model = self._chat.model

    def __repr__(self) -> str:
        return f"LocalModelServing(model={self.model!r})"


def _accepted(cls: type, kw: dict[str, Any]) -> dict[str, Any]:
    """Keep the keywords ``cls`` takes, so one config can drive a remote or a local model."""
    params = inspect.signature(cls.__init__).parameters
    dropped = sorted(set(kw) - set(params))
    if dropped:
        log.debug("%s ignores %s", cls.__name__, ", ".join(dropped))
    return {k: v for k, v in kw.items() if k in params}


def _env_model(names: tuple[str, ...]) -> str | None:
    return next((os.environ[n] for n in names if os.environ.get(n)), None)


def default_chat_model(*, base_url: str | None = None, model: str | None = None,
                       **kw: Any) -> ChatModel:
    """A client of the configured server (argument, $SQLSYNTH_BASE_URL, $OPENAI_BASE_URL),
    else the local GGUF model. Keywords the chosen class does not take are ignored."""
    url = configured_base_url(base_url)
    if url:
        from sqlsynth.llm.openai_client import OpenAIChat

        name = model or _env_model(CHAT_MODEL_ENVS)
        if not name:
            raise LLMConfigError(f"a server is configured ({url}) but no model: pass model=... "
                                 f"or set ${CHAT_MODEL_ENVS[0]}")
        return OpenAIChat(name, base_url=split_endpoint(url)[0], **_accepted(OpenAIChat, kw))
    from sqlsynth.llm.local import LocalChat

    if model and "model_path" not in kw and model.endswith(".gguf"):
        kw["model_path"] = model
    return LocalChat(**_accepted(LocalChat, kw))


def default_embedding_model(*, base_url: str | None = None, model: str | None = None,
                            **kw: Any) -> EmbeddingModel:
    """Like ``default_chat_model`` for embeddings (local: all-MiniLM-L6-v2)."""
    url = configured_base_url(base_url)
    if url:
        from sqlsynth.llm.openai_client import OpenAIEmbeddings

        name = model or _env_model(EMBEDDING_MODEL_ENVS)
        if not name:
            raise LLMConfigError(f"a server is configured ({url}) but no embedding model: pass "
                                 f"model=... or set ${EMBEDDING_MODEL_ENVS[0]}")
        return OpenAIEmbeddings(name, base_url=split_endpoint(url)[0],
                                **_accepted(OpenAIEmbeddings, kw))
    from sqlsynth.llm.local import LocalEmbeddings

    if model and "model_dir" not in kw and os.path.isdir(model):
        kw["model_dir"] = model
    return LocalEmbeddings(**_accepted(LocalEmbeddings, kw))
