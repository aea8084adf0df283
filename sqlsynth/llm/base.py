"""The chat and embedding interfaces, and the cache-first logic every backend shares.

A backend only says how to produce missing answers (``_generate`` / ``_embed_batch``); looking
answers up in the response cache, storing each one as soon as it arrives and the sync
wrappers live here, so remote and local models behave alike.
"""

from __future__ import annotations

import asyncio
import threading
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar, runtime_checkable

from sqlsynth.llm.cache import DEFAULT_CACHE, ResponseCache, chat_key, embedding_key, open_cache
from sqlsynth.llm.stats import UsageStats

T = TypeVar("T")
Messages = Sequence[Mapping[str, Any]]
Deliver = Callable[[int, str], None]


@runtime_checkable
class ChatModel(Protocol):
    model: str
    stats: UsageStats

    async def achat(self, messages: list[dict], *, n: int = 1, temperature: float | None = None,
                    top_p: float | None = None, max_tokens: int | None = None,
                    seed: int | None = None, stop: list[str] | None = None,
                    grammar: str | None = None) -> list[str]: ...

    def chat(self, messages: list[dict], **kw: Any) -> list[str]: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class EmbeddingModel(Protocol):
    model: str
    stats: UsageStats

    async def aembed(self, texts: list[str]) -> list[list[float]]: ...

    def embed(self, texts: list[str]) -> list[list[float]]: ...


@dataclass(frozen=True)
class SamplingParams:
    """Everything besides the messages that decides an answer; all of it keys the cache."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    stop: tuple[str, ...] | None = None
    extra_body: Mapping[str, Any] | None = None
    grammar: str | None = None

    def merged(self, **overrides: Any) -> SamplingParams:
        """These defaults with the call's explicit (non-None) values on top."""
        given = {k: v for k, v in overrides.items() if v is not None}
        if "stop" in given:
            stop = given["stop"]
            given["stop"] = (stop,) if isinstance(stop, str) else tuple(stop)
        return replace(self, **given)

    def key_dict(self) -> dict[str, Any]:
        # The grammar enters the key only when one applies, so answers cached before grammars
        # existed (and every unconstrained answer) keep their keys.
        key = {"temperature": self.temperature, "top_p": self.top_p,
               "max_tokens": self.max_tokens, "seed": self.seed,
               "stop": list(self.stop) if self.stop is not None else None,
               "extra_body": dict(self.extra_body) if self.extra_body else None}
        if self.grammar is not None:
            key["grammar"] = self.grammar
        return key

    def seed_for(self, index: int) -> int | None:
        """Seed of a candidate asked for on its own: distinct per index, stable across runs."""
        return None if self.seed is None else self.seed + index


class _BackgroundLoop:
    """One event loop in a daemon thread, running the coroutines of the sync wrappers.

    A private loop (rather than ``asyncio.run`` per call) keeps HTTP connections alive
    between calls and works even when the caller's thread already runs a loop.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="sqlsynth-llm-sync",
                                          daemon=True)
                thread.start()
                self._loop = loop
            return self._loop

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        loop = self.loop()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            coro.close()
            raise RuntimeError("a sync LLM method was called from inside the sync helper's own "
                               "event loop; await the async method (achat/aembed) instead")
        return asyncio.run_coroutine_threadsafe(coro, loop).result()


_SYNC = _BackgroundLoop()


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code."""
    return _SYNC.run(coro)


async def gather_or_cancel(aws: Iterable[Awaitable[Any]]) -> list[Any]:
    """Like ``asyncio.gather`` but the first failure cancels the others (no orphan requests)."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    if not tasks:
        return []
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def check_messages(messages: Messages) -> list[dict[str, Any]]:
    if isinstance(messages, (str, bytes)) or not messages:
        raise TypeError("messages must be a non-empty list of {'role': ..., 'content': ...}")
    out = []
    for pos, message in enumerate(messages):
        if not isinstance(message, Mapping) or "role" not in message:
            raise TypeError(f"messages[{pos}] must be a dict with 'role' and 'content'")
        out.append(dict(message))
    return out


class CachedChat(ABC):
    """Cache-first chat: answers candidate ``i`` from the cache, asks the backend for the rest."""

    model: str
    stats: UsageStats

    def __init__(self, *, cache: Any = DEFAULT_CACHE, stats: UsageStats | None = None,
                 defaults: SamplingParams | None = None) -> None:
        self.cache: ResponseCache | None = open_cache(cache)
        self.stats = stats if stats is not None else UsageStats()
        self.defaults = defaults or SamplingParams()

    @property
    def cache_model(self) -> str:
        """The model's name in cache keys (backends whose outputs differ add their kind)."""
        return self.model

    @property
    def supports_grammar(self) -> bool:
        """Whether this backend constrains its output with a GBNF grammar; one that does not
        ignores the ``grammar`` argument, which then stays out of the cache key too."""
        return False

    async def achat(self, messages: list[dict], *, n: int = 1, temperature: float | None = None,
                    top_p: float | None = None, max_tokens: int | None = None,
                    seed: int | None = None, stop: list[str] | None = None,
                    grammar: str | None = None) -> list[str]:
        """Exactly ``n`` answers; each one is stored in the cache the moment it arrives.

        ``grammar`` (GBNF text, see ``sqlsynth.prompts.grammars``) is the answer's required
        format, applied by backends that support constrained decoding and ignored by others.
        """
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        msgs = check_messages(messages)
        if grammar is not None and not isinstance(grammar, str):
            raise TypeError(f"grammar must be GBNF text (str), got {type(grammar).__name__}")
        grammar = grammar if grammar and self.supports_grammar else None
        params = self.adjusted(self.defaults.merged(temperature=temperature, top_p=top_p,
                                                    max_tokens=max_tokens, seed=seed, stop=stop,
                                                    grammar=grammar))
        key_params = params.key_dict()
        keys = [chat_key(self.cache_model, msgs, key_params, i) for i in range(n)]
        found = self.cache.get_texts(keys) if self.cache is not None else {}
        # an empty answer is never an answer worth replaying (caches written by older
        # versions may hold some): asked again
        answers: list[str | None] = [found.get(k) or None for k in keys]
        missing = [i for i, a in enumerate(answers) if a is None]
        if n - len(missing):
            self.stats.add(cache_hits=n - len(missing))
        if missing:
            def deliver(index: int, text: str) -> None:
                if answers[index] is not None:
                    return
                answers[index] = text
                # only real answers are cached: a null/empty completion is a failure of the
                # backend (remote clients retry it), and caching it would make it permanent
                if self.cache is not None and text and text.strip():
                    self.cache.put_texts({keys[index]: text}, model=self.cache_model)

            await self._generate(msgs, missing, params, deliver)
            lost = [i for i in missing if answers[i] is None]
            if lost:
                raise RuntimeError(f"{type(self).__name__} produced no answer for candidates "
                                   f"{lost}")
        return [a for a in answers if a is not None]

    def adjusted(self, params: SamplingParams) -> SamplingParams:
        """The parameters the backend will really use (they, not the asked ones, key the cache)."""
        return params

    @abstractmethod
    async def _generate(self, messages: list[dict[str, Any]], indices: list[int],
                        params: SamplingParams, deliver: Deliver) -> None:
        """Produce candidate ``i`` for each ``i`` in ``indices``; call ``deliver(i, text)``."""

    def chat(self, messages: list[dict], **kw: Any) -> list[str]:
        return run_sync(self.achat(messages, **kw))

    async def aclose(self) -> None:
        return None

    def close(self) -> None:
        run_sync(self.aclose())


class CachedEmbeddings(ABC):
    """Cache-first embeddings: each distinct text is embedded once, in batches."""

    model: str
    stats: UsageStats

    def __init__(self, *, cache: Any = DEFAULT_CACHE, stats: UsageStats | None = None,
                 batch_size: int = 64) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.cache: ResponseCache | None = open_cache(cache)
        self.stats = stats if stats is not None else UsageStats()
        self.batch_size = batch_size

    @property
    def cache_model(self) -> str:
        return self.model

    async def aembed(self, texts: list[str]) -> list[list[float]]:
        if isinstance(texts, str):
            raise TypeError("aembed takes a list of texts, not one string")
        texts = [str(t) for t in texts]
        unique = list(dict.fromkeys(texts))
        keys = {t: embedding_key(self.cache_model, t) for t in unique}
        found = self.cache.get_vectors(list(keys.values())) if self.cache is not None else {}
        vectors: dict[str, list[float]] = {t: found[k] for t, k in keys.items() if k in found}
        if vectors:
            self.stats.add(cache_hits=len(vectors))
        missing = [t for t in unique if t not in vectors]

        async def one_batch(batch: list[str]) -> None:
            got = await self._embed_batch(batch)
            if len(got) != len(batch):
                raise RuntimeError(f"{type(self).__name__} returned {len(got)} vectors for "
                                   f"{len(batch)} texts")
            vectors.update(zip(batch, got))
            if self.cache is not None:
                self.cache.put_vectors({keys[t]: v for t, v in zip(batch, got)},
                                       model=self.cache_model)

        batches = [missing[i:i + self.batch_size]
                   for i in range(0, len(missing), self.batch_size)]
        await gather_or_cancel(one_batch(b) for b in batches)
        return [vectors[t] for t in texts]

    @abstractmethod
    async def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        """Vectors of ``texts``, in order."""

    def embed(self, texts: list[str]) -> list[list[float]]:
        return run_sync(self.aembed(texts))

    async def aclose(self) -> None:
        return None

    def close(self) -> None:
        run_sync(self.aclose())


async def aclose_models(*models: Any) -> None:
    """Close the running loop's clients of each model that has any (None and duck-typed
    user objects without ``aclose`` are skipped). HTTP clients belong to the loop that made
    them, so this is called on that loop before it ends; shared models close idempotently."""
    for model in models:
        close = getattr(model, "aclose", None)
        if close is not None:
            await close()
