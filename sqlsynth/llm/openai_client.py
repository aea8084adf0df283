"""Chat and embeddings against any OpenAI-compatible server, through the official client.

The client's own retries are off (``max_retries=0``) so that every retry is ours: counted,
bounded, honouring Retry-After, and stopped at once when the server is unreachable or rejects
the key (``LLMUnavailableError``, raised once and then re-raised immediately by every call).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlsynth.llm.base import (
    CachedChat,
    CachedEmbeddings,
    Deliver,
    SamplingParams,
    gather_or_cancel,
)
from sqlsynth.llm.cache import DEFAULT_CACHE
from sqlsynth.llm.config import DEFAULT_KEY_ENV, PLACEHOLDER_KEY, check_base_url, resolve_api_key
from sqlsynth.llm.errors import (
    LLMConfigError,
    LLMNeverAnsweredError,
    LLMRequestRefusedError,
    LLMResponseError,
    LLMTimeoutError,
    LLMUnavailableError,
)
from sqlsynth.llm.failures import record_failure, record_unavailable
from sqlsynth.llm.limits import PrioritySemaphore, RequestLimit
from sqlsynth.llm.outage import OutageGate, OutagePolicy
from sqlsynth.llm.retry import FATAL_STATUS, RetryPolicy, is_retryable_status, retry_after_seconds
from sqlsynth.llm.stats import UsageStats

log = logging.getLogger("sqlsynth.llm")
T = TypeVar("T")

DEFAULT_MAX_CONCURRENCY = 32
DEFAULT_TIMEOUT = 120.0


class MalformedResponse(ValueError):
    """The server answered 200 but the body is not what the endpoint promises."""


@dataclass
class _LoopState:
    client: Any
    semaphore: PrioritySemaphore
    gate: OutageGate
    liveness: asyncio.Future[bool] | None = None


class OpenAIConnection:
    """One model on one OpenAI-compatible server: the client, concurrency bound and retries.

    The ``AsyncOpenAI`` client and the semaphore belong to an event loop, so one pair is made
    per loop that uses this object (the caller's loop, and the loop behind the sync wrappers).
    """

    def __init__(self, model: str, *, base_url: str, api_key: str | None = None,
                 api_key_env: str = DEFAULT_KEY_ENV, max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
                 timeout: float = DEFAULT_TIMEOUT, retry: RetryPolicy | None = None,
                 stats: UsageStats | None = None, outage: OutagePolicy | None = None,
                 limit: RequestLimit | None = None) -> None:
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
        self.model = model
        self.base_url = check_base_url(base_url).rstrip("/")
        if not timeout or timeout <= 0:
            raise LLMConfigError(f"request_timeout must be a positive number of seconds, "
                                 f"got {timeout!r}")
        self._api_key = resolve_api_key(self.base_url, api_key=api_key, key_env=api_key_env)
        self.max_concurrency = max_concurrency
        #: shared with the run's other clients: ``max_concurrency`` bounds this endpoint only
        self.limit = limit
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.stats = stats if stats is not None else UsageStats()
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = \
            weakref.WeakKeyDictionary()
        self._states_lock = threading.Lock()
        self.outage = outage or OutagePolicy()
        self._unavailable: LLMUnavailableError | None = None

    @property
    def _ever_answered(self) -> bool:
        """Whether this server answered anything in this process (chat and embeddings of one
        endpoint are separate connections; either one's answer proves the endpoint is up)."""
        return self.base_url in _ANSWERED_URLS

    def __repr__(self) -> str:  # never shows the key
        return f"{type(self).__name__}(model={self.model!r}, base_url={self.base_url!r})"

    # ---- per-loop client ----------------------------------------------------------------

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        with self._states_lock:
            state = self._states.get(loop)
            if state is None:
                from openai import AsyncOpenAI

                client = AsyncOpenAI(base_url=self.base_url, api_key=self._api_key,
                                     max_retries=0, timeout=self.timeout)
                state = _LoopState(client, PrioritySemaphore(self.max_concurrency),
                                   OutageGate(self.outage, self._describe()))
                self._states[loop] = state
            return state

    async def aclose(self) -> None:
        """Close the client of the running loop (others close with their loops)."""
        loop = asyncio.get_running_loop()
        with self._states_lock:
            state = self._states.pop(loop, None)
        if state is not None:
            await state.client.close()

    # ---- failure handling ---------------------------------------------------------------

    def _describe(self) -> str:
        return self._redact(f"base_url={self.base_url}, model={self.model}")

    def _redact(self, text: str) -> str:
        """Mask the key where a server quoted it back: error texts become exception messages,
        log lines and rejects-file reasons, and the key must reach none of them."""
        from sqlsynth.redaction import redact_secrets

        key = self._api_key
        return redact_secrets(text, (key,) if key and key != PLACEHOLDER_KEY else ())

    def _mark_unavailable(self, reason: str,
                          cls: type[LLMUnavailableError] = LLMUnavailableError
                          ) -> LLMUnavailableError:
        if self._unavailable is None:
            self._unavailable = cls(f"LLM server unavailable: {reason} ({self._describe()})")
            # debug only: the exception is the one place the user sees it (printed once)
            log.debug("%s", self._unavailable)
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            state = self._states.get(loop) if loop is not None else None
            if state is not None:  # requests paused by an outage stop waiting
                state.gate.kill(self._unavailable)
        return type(self._unavailable)(str(self._unavailable))

    def _raise_if_unavailable(self) -> None:
        # A fresh instance per raise (same message): re-raising one object from many tasks
        # would chain every task's traceback onto it.
        if self._unavailable is not None:
            raise type(self._unavailable)(str(self._unavailable)) from None

    @property
    def unavailable(self) -> LLMUnavailableError | None:
        return self._unavailable

    async def request(self, what: str, send: Callable[[Any], Awaitable[Any]],
                      parse: Callable[[Any], T]) -> T:
        """Send one request with our retry policy; ``parse`` raises MalformedResponse.

        A final failure for the endpoint's reasons is also recorded for the row being
        processed (``sqlsynth.llm.failures``), so it waits instead of being judged.
        """
        try:
            return await self._request(what, send, parse)
        except LLMUnavailableError as exc:
            record_unavailable(exc)
            raise
        except LLMRequestRefusedError:
            raise
        except LLMResponseError as exc:
            record_failure(str(exc))
            raise

    async def _attempt(self, send: Callable[[Any], Awaitable[Any]], client: Any) -> Any:
        """One HTTP exchange bounded as a whole (connect, wait and every byte of the body):
        the client's own timeouts are per read, so a server dripping its body byte by byte
        would hold a request far past ``timeout``."""
        try:
            return await asyncio.wait_for(send(client), self.timeout)
        except asyncio.TimeoutError:
            raise _DeadlineExceeded from None

    async def _request(self, what: str, send: Callable[[Any], Awaitable[Any]],
                       parse: Callable[[Any], T]) -> T:
        import openai

        self._raise_if_unavailable()
        state = self._state()
        gate = state.gate
        retries = timeouts = refused = 0
        last_problem = ""
        paused_once = False  # whether this request's last retry has closed the gate

        def endpoint_failed(spent: int, limit: int, retry_after: float | None = None) -> bool:
            """Tell the gate; True when the attempt is not charged (the gate holds it)."""
            nonlocal paused_once
            final = not paused_once and spent + 1 > limit and self.outage.max_outage > 0
            was_open = not gate.closed
            held = gate.failed(probe, last_problem, retry_after, final=final)
            if held and final and was_open:
                paused_once = True
            return held

        while True:
            retry_after: float | None = None
            probe = await gate.turn()
            try:
                async with state.semaphore, (
                        self.limit.semaphore() if self.limit else contextlib.nullcontext()):
                    self._raise_if_unavailable()
                    self.stats.add(requests=1)
                    try:
                        result = parse(await self._attempt(send, state.client))
                    except (openai.APITimeoutError, _DeadlineExceeded):
                        last_problem = f"timed out after {self.timeout:g}s"
                        if not self._ever_answered:
                            await self._check_alive(state)
                        elif endpoint_failed(timeouts, self.retry.timeout_retries):
                            continue
                        timeouts += 1
                        if timeouts > self.retry.timeout_retries:
                            self.stats.add(failures=1)
                            raise LLMTimeoutError(f"{what} {last_problem} on {timeouts} "
                                                  f"attempts ({self._describe()})") from None
                        # before any answer the timeout itself was the wait
                        delay = self.retry.backoff(timeouts) if self._ever_answered else 0.0
                    except openai.APIConnectionError as exc:
                        cause = exc.__cause__ or exc
                        last_problem = self._redact(
                            f"cannot connect ({type(cause).__name__}: {cause})")
                        if not self._ever_answered:
                            refused += 1
                            if refused > self.retry.connect_retries:
                                self.stats.add(failures=1)
                                raise self._mark_unavailable(last_problem) from None
                            delay = self.retry.connect_backoff(refused)
                        else:
                            if endpoint_failed(refused, self.retry.max_retries):
                                continue
                            refused += 1
                            if refused > self.retry.max_retries:
                                self.stats.add(failures=1)
                                raise LLMResponseError(
                                    f"{what} failed: {last_problem} on {refused} attempts "
                                    f"({self._describe()})") from None
                            delay = self.retry.backoff(refused)
                    except openai.APIStatusError as exc:
                        status = exc.status_code
                        last_problem = f"HTTP {status}: {_short(self._redact(exc.message))}"
                        if status in FATAL_STATUS:
                            self.stats.add(failures=1)
                            reason = {401: "API key rejected", 403: "access denied",
                                      404: "model or endpoint not found"}[status]
                            raise self._mark_unavailable(f"{reason} ({last_problem})") from None
                        if not is_retryable_status(status):
                            gate.answered(probe)
                            self.stats.add(failures=1)
                            raise LLMRequestRefusedError(f"{what} refused: {last_problem} "
                                                         f"({self._describe()})") from None
                        retry_after = retry_after_seconds(exc.response.headers)
                        if endpoint_failed(retries, self.retry.max_retries, retry_after):
                            continue
                        retries += 1
                        delay = self.retry.backoff(retries, retry_after)
                    except (MalformedResponse, openai.APIResponseValidationError, ValueError,
                            TypeError, AttributeError, KeyError) as exc:
                        last_problem = (f"malformed response ({type(exc).__name__}: "
                                        f"{_short(self._redact(str(exc)))})")
                        if endpoint_failed(retries, self.retry.max_retries):
                            continue
                        retries += 1
                        delay = self.retry.backoff(retries)
                    else:
                        _ANSWERED_URLS.add(self.base_url)
                        gate.answered(probe)
                        return result
            finally:
                gate.release(probe)
            if retries > self.retry.max_retries:
                self.stats.add(failures=1)
                raise LLMResponseError(f"{what} failed after {retries} retries, last: "
                                       f"{last_problem} ({self._describe()})")
            self.stats.add(retries=1)
            log.debug("retrying %s in %.2fs: %s", what, delay, last_problem)
            if delay:
                await asyncio.sleep(delay)

    async def _check_alive(self, state: _LoopState) -> None:
        """A request timed out and the endpoint never answered anything yet: is anyone there?

        One quick check (``GET /models``, any HTTP answer will do) is shared by every request
        of the wave that timed out. A server that answers it is up but slow, so requests are
        retried as usual; one that does not accepts connections but never replies (a black
        hole), and the run stops now, about ``timeout`` (at most twice it) after it began,
        instead of retrying every row for minutes.
        """
        if self._ever_answered or self._unavailable is not None:
            self._raise_if_unavailable()
            return
        if state.liveness is None:
            state.liveness = asyncio.ensure_future(self._answers_at_all(state.client))
        alive = await asyncio.shield(state.liveness)
        if alive:
            _ANSWERED_URLS.add(self.base_url)
            return
        raise self._mark_unavailable(
            f"requests timed out after request_timeout={self.timeout:g}s and the endpoint "
            f"did not answer a check of /models within {self._check_timeout:g}s either (it "
            "accepts connections but does not reply)", cls=LLMNeverAnsweredError) from None

    @property
    def _check_timeout(self) -> float:
        return min(self.timeout, 2.0)

    async def _answers_at_all(self, client: Any) -> bool:
        import openai

        try:
            await asyncio.wait_for(client.models.list(), self._check_timeout)
        except openai.APIStatusError:
            return True  # an HTTP answer, even 404: someone is there
        except (openai.APIConnectionError, asyncio.TimeoutError):
            return False
        except Exception:  # noqa: BLE001 - a body the client cannot parse is an answer too
            return True
        return True


#: base URLs that answered at least once in this process
_ANSWERED_URLS: set[str] = set()


class _DeadlineExceeded(Exception):
    """The whole exchange took longer than ``timeout``."""


def _short(value: object, limit: int = 200) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _json_body(raw: bytes) -> dict[str, Any]:
    """The answer's JSON object; anything else is a malformed response."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise MalformedResponse(f"body is not JSON: {_short(raw[:200])}") from None
    if not isinstance(body, dict):
        raise MalformedResponse(f"body is not a JSON object: {_short(body)}")
    return body


async def _post_json(client: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST ``body`` through the official client and read the answer as plain JSON.

    ``cast_to=bytes`` keeps the client's connection handling, headers, authentication and
    status errors (``APIStatusError`` and friends) but skips its per-request conversion of
    the arguments and of the answer into typed models: that was about a third of a run's
    CPU (bench/pipeline.py, cProfile), for fields this module reads by name anyway.
    """
    return _json_body(await client.post(path, body=body, cast_to=bytes))


def _choice_texts(response: dict[str, Any]) -> list[str]:
    choices = response.get("choices")
    if not isinstance(choices, list) or not choices:
        raise MalformedResponse(f"no choices in response: {_short(response)}")
    if not all(isinstance(c, dict) for c in choices):
        raise MalformedResponse("a choice is not an object")
    ordered = sorted(choices, key=lambda c: c.get("index") or 0)
    texts = []
    for choice in ordered:
        message = choice.get("message")
        if not isinstance(message, dict):
            raise MalformedResponse("choice without a message")
        content = message.get("content")
        if content is None:
            # a null answer is the endpoint failing, not the model's verdict: never cached
            raise MalformedResponse("message content is null")
        if not isinstance(content, str):
            raise MalformedResponse(f"message content is {type(content).__name__}")
        if not content.strip():
            raise MalformedResponse("message content is empty")
        texts.append(content)
    return texts


def _usage(response: dict[str, Any]) -> tuple[int, int]:
    usage = response.get("usage")
    if not isinstance(usage, dict):
        return 0, 0
    prompt = usage.get("prompt_tokens") or 0
    completion = usage.get("completion_tokens") or 0
    return int(prompt), int(completion)


class OpenAIChat(CachedChat):
    """Chat completions from an OpenAI-compatible server; ``n`` candidates per prompt.

    When the server ignores ``n`` (returns fewer choices), the rest are asked one by one, each
    with its own candidate index (and seed ``seed + index`` when a seed is set, so they differ).

    A ``grammar`` passed to ``achat`` is ignored (and kept out of the cache key) unless
    ``grammar_passthrough=True``: then it is sent as ``extra_body={"grammar": ...}``, which
    llama.cpp's server applies; other servers may reject or ignore that field.
    """

    def __init__(self, model: str, *, base_url: str, api_key: str | None = None,
                 api_key_env: str = DEFAULT_KEY_ENV, temperature: float | None = None,
                 top_p: float | None = None, max_tokens: int | None = None,
                 seed: int | None = None, stop: list[str] | None = None,
                 extra_body: Mapping[str, Any] | None = None,
                 max_concurrency: int = DEFAULT_MAX_CONCURRENCY, timeout: float = DEFAULT_TIMEOUT,
                 retry: RetryPolicy | None = None, cache: Any = DEFAULT_CACHE,
                 stats: UsageStats | None = None, grammar_passthrough: bool = False,
                 outage: OutagePolicy | None = None,
                 limit: RequestLimit | None = None) -> None:
        defaults = SamplingParams().merged(temperature=temperature, top_p=top_p,
                                           max_tokens=max_tokens, seed=seed, stop=stop,
                                           extra_body=dict(extra_body) if extra_body else None)
        super().__init__(cache=cache, stats=stats, defaults=defaults)
        self.model = model
        self.grammar_passthrough = grammar_passthrough
        self.connection = OpenAIConnection(model, base_url=base_url, api_key=api_key,
                                           api_key_env=api_key_env,
                                           max_concurrency=max_concurrency, timeout=timeout,
                                           retry=retry, stats=self.stats, outage=outage,
                                           limit=limit)

    @property
    def base_url(self) -> str:
        return self.connection.base_url

    @property
    def supports_grammar(self) -> bool:
        return self.grammar_passthrough

    def __repr__(self) -> str:
        return f"OpenAIChat(model={self.model!r}, base_url={self.base_url!r})"

    async def _ask(self, messages: list[dict[str, Any]], params: SamplingParams, n: int,
                   seed: int | None) -> list[str]:
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages}
        for name in ("temperature", "top_p", "max_tokens"):
            value = getattr(params, name)
            if value is not None:
                kwargs[name] = value
        if seed is not None:
            kwargs["seed"] = seed
        if params.stop:
            kwargs["stop"] = list(params.stop)
        if n > 1:
            kwargs["n"] = n
        # extra fields travel at the top level of the body, as the client's extra_body does
        if params.extra_body:
            kwargs.update(params.extra_body)
        if params.grammar is not None:
            kwargs["grammar"] = params.grammar

        def parse(response: Any) -> list[str]:
            texts = _choice_texts(response)
            prompt, completion = _usage(response)
            self.stats.add(prompt_tokens=prompt, completion_tokens=completion)
            return texts

        return await self.connection.request(
            "chat completion", lambda client: _post_json(client, "/chat/completions", kwargs),
            parse)

    async def _generate(self, messages: list[dict[str, Any]], indices: list[int],
                        params: SamplingParams, deliver: Deliver) -> None:
        # One request with n covers the candidates a single seeded request would produce:
        # a prefix 0, 1, 2, ... (any set when unseeded). The rest are asked one by one.
        if params.seed is None:
            together = list(indices)
        else:
            together = [i for pos, i in enumerate(indices) if i == pos]  # sorted: a prefix
        alone = [i for i in indices if i not in together]

        async def single(index: int) -> None:
            texts = await self._ask(messages, params, 1, params.seed_for(index))
            deliver(index, texts[0])

        async def batch() -> None:
            texts = await self._ask(messages, params, len(together), params.seed)
            for index, text in zip(together, texts):
                deliver(index, text)
            await gather_or_cancel(single(i) for i in together[len(texts):])

        jobs = [single(i) for i in alone]
        if together:
            jobs.append(batch())
        await gather_or_cancel(jobs)

    async def aclose(self) -> None:
        await self.connection.aclose()


class OpenAIEmbeddings(CachedEmbeddings):
    """Embeddings from an OpenAI-compatible server, ``batch_size`` texts per request."""

    def __init__(self, model: str, *, base_url: str, api_key: str | None = None,
                 api_key_env: str = DEFAULT_KEY_ENV, batch_size: int = 64,
                 max_concurrency: int = DEFAULT_MAX_CONCURRENCY, timeout: float = DEFAULT_TIMEOUT,
                 retry: RetryPolicy | None = None, cache: Any = DEFAULT_CACHE,
                 stats: UsageStats | None = None,
                 extra_body: Mapping[str, Any] | None = None,
                 outage: OutagePolicy | None = None,
                 limit: RequestLimit | None = None) -> None:
        super().__init__(cache=cache, stats=stats, batch_size=batch_size)
        self.model = model
        self.extra_body = dict(extra_body) if extra_body else None
        self.connection = OpenAIConnection(model, base_url=base_url, api_key=api_key,
                                           api_key_env=api_key_env,
                                           max_concurrency=max_concurrency, timeout=timeout,
                                           retry=retry, stats=self.stats, outage=outage,
                                           limit=limit)

    @property
    def base_url(self) -> str:
        return self.connection.base_url

    def __repr__(self) -> str:
        return f"OpenAIEmbeddings(model={self.model!r}, base_url={self.base_url!r})"

    async def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        kwargs: dict[str, Any] = {"model": self.model, "input": texts}
        if self.extra_body:
            kwargs.update(self.extra_body)

        def parse(response: dict[str, Any]) -> list[list[float]]:
            data = response.get("data")
            if not isinstance(data, list) or len(data) != len(texts):
                raise MalformedResponse(f"expected {len(texts)} embeddings, got "
                                        f"{len(data) if isinstance(data, list) else data!r}")
            if not all(isinstance(d, dict) for d in data):
                raise MalformedResponse("an embedding item is not an object")
            ordered = sorted(data, key=lambda d: d.get("index") or 0)
            vectors = []
            for item in ordered:
                vector = item.get("embedding")
                if not isinstance(vector, list) or not vector:
                    raise MalformedResponse("embedding is not a list of numbers")
                vectors.append([float(x) for x in vector])
            prompt, _ = _usage(response)
            self.stats.add(prompt_tokens=prompt)
            return vectors

        return await self.connection.request(
            "embedding", lambda client: _post_json(client, "/embeddings", kwargs), parse)

    async def aclose(self) -> None:
        await self.connection.aclose()
