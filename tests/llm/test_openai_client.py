"""OpenAIChat against the scripted server, over real HTTP with the official client."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from sqlsynth.llm import (
    LLMResponseError,
    LLMTimeoutError,
    LLMUnavailableError,
    OpenAIChat,
    RetryPolicy,
)
from sqlsynth.llm.outage import OutagePolicy

FAST = RetryPolicy(base_delay=0.01, max_delay=0.05)


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


NO_PAUSE = OutagePolicy(max_outage=0)  # retry counting alone: no outage pause


def make_chat(server, **kw) -> OpenAIChat:
    kw.setdefault("cache", None)
    kw.setdefault("retry", FAST)
    kw.setdefault("timeout", 10.0)
    return OpenAIChat("scripted-model", base_url=server.base_url, **kw)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_answers_and_sends_sampling_params(openai_server):
    openai_server.responder = lambda body: "SELECT 1"
    chat = make_chat(openai_server, temperature=0.3, top_p=0.9, max_tokens=50,
                     extra_body={"top_k": 20})
    answers = await chat.achat(user("hi"), seed=5, stop=["\n\n"])
    assert answers == ["SELECT 1"]
    body = openai_server.chat_requests[0]["body"]
    assert body["temperature"] == 0.3 and body["top_p"] == 0.9 and body["max_tokens"] == 50
    assert body["seed"] == 5 and body["stop"] == ["\n\n"] and body["top_k"] == 20
    assert "n" not in body  # n=1 is not sent: some servers reject the field
    await chat.aclose()


async def test_retries_429_and_honours_retry_after(openai_server):
    chat = make_chat(openai_server)
    openai_server.inject("429", retry_after=1)
    start = time.monotonic()
    assert len(await chat.achat(user("x"))) == 1
    assert time.monotonic() - start >= 1.0
    assert chat.stats.snapshot()["retries"] == 1
    assert len(openai_server.chat_requests) == 2


async def test_retry_after_ms_header(openai_server):
    chat = make_chat(openai_server)
    openai_server.inject("429", retry_after_ms=600)
    start = time.monotonic()
    await chat.achat(user("x"))
    assert time.monotonic() - start >= 0.6


async def test_retries_500_then_succeeds(openai_server):
    chat = make_chat(openai_server)
    openai_server.inject("500", count=2)
    assert await chat.achat(user("x"), seed=1) == ["echo[1:0] x"]
    stats = chat.stats.snapshot()
    assert stats["retries"] == 2 and stats["requests"] == 3 and stats["failures"] == 0


async def test_gives_up_after_max_retries_and_one_outage_pause(openai_server):
    """A lone request's retries spent: the endpoint is given one outage pause (its probes
    bounded by max_outage), then the request fails for its row to wait for a rerun."""
    outage = OutagePolicy(probe_delay=0.05, max_probe_delay=0.1, max_outage=0.5)
    chat = make_chat(openai_server, retry=RetryPolicy(max_retries=2, base_delay=0.01),
                     outage=outage)
    openai_server.inject("500", count=1000)
    with pytest.raises(LLMResponseError, match="HTTP 500"):
        await chat.achat(user("x"))
    assert 3 < len(openai_server.chat_requests) < 3 + 15  # its 3 attempts, then a few probes


async def test_hang_past_timeout_is_retried(openai_server):
    chat = make_chat(openai_server, timeout=0.5)
    openai_server.inject("hang")
    assert len(await chat.achat(user("x"))) == 1
    assert chat.stats.snapshot()["retries"] == 1


async def test_hang_on_every_attempt_raises_timeout(openai_server):
    chat = make_chat(openai_server, timeout=0.3, outage=NO_PAUSE,
                     retry=RetryPolicy(timeout_retries=1, base_delay=0.01))
    openai_server.inject("hang", count=5)
    with pytest.raises(LLMTimeoutError, match="timed out"):
        await chat.achat(user("x"))
    assert len(openai_server.chat_requests) == 2


async def test_malformed_body_is_retried_then_fails(openai_server):
    chat = make_chat(openai_server, retry=RetryPolicy(max_retries=1, base_delay=0.01),
                     outage=NO_PAUSE)
    openai_server.inject("malformed")
    assert len(await chat.achat(user("x"))) == 1
    openai_server.inject("malformed", count=2)
    with pytest.raises(LLMResponseError, match="malformed"):
        await chat.achat(user("y"))


async def test_missing_choices_is_malformed(openai_server_factory):
    server = openai_server_factory(responder=lambda body: [])  # server turns this into a 500
    chat = make_chat(server, retry=RetryPolicy(max_retries=1, base_delay=0.01),
                     outage=NO_PAUSE)
    with pytest.raises(LLMResponseError):
        await chat.achat(user("x"))


async def test_connection_refused_fails_fast_with_one_error():
    port = free_port()
    chat = OpenAIChat("some-model", base_url=f"http://127.0.0.1:{port}/v1", cache=None)
    start = time.monotonic()
    results = await asyncio.gather(*(chat.achat(user(str(i))) for i in range(50)),
                                   return_exceptions=True)
    elapsed = time.monotonic() - start
    assert elapsed < 5.0
    assert all(isinstance(r, LLMUnavailableError) for r in results)
    messages = {str(r) for r in results}
    assert len(messages) == 1
    (message,) = messages
    assert f"127.0.0.1:{port}" in message and "some-model" in message
    start = time.monotonic()
    with pytest.raises(LLMUnavailableError):
        await chat.achat(user("later"))
    assert time.monotonic() - start < 1.0
    assert chat.stats.snapshot()["requests"] <= 32 * 3 + 50


async def test_rejected_key_fails_fast(openai_server_factory):
    server = openai_server_factory(require_key="right-key")
    chat = make_chat(server, api_key="wrong-key", max_concurrency=4)
    results = await asyncio.gather(*(chat.achat(user(str(i))) for i in range(20)),
                                   return_exceptions=True)
    assert all(isinstance(r, LLMUnavailableError) for r in results)
    assert "API key rejected" in str(results[0]) and server.base_url in str(results[0])
    assert len(server.chat_requests) <= 4


async def test_injected_401_makes_model_unavailable(openai_server):
    chat = make_chat(openai_server)
    openai_server.inject("401")
    with pytest.raises(LLMUnavailableError, match="401"):
        await chat.achat(user("x"))
    with pytest.raises(LLMUnavailableError):
        await chat.achat(user("y"))
    assert len(openai_server.chat_requests) == 1


async def test_bad_request_is_not_retried(openai_server):
    def too_long(body):
        raise ValueError("prompt is longer than the context window")

    openai_server.responder = too_long  # the scripted server answers ValueError with a 400
    chat = make_chat(openai_server)
    with pytest.raises(LLMResponseError, match="HTTP 400"):
        await chat.achat(user("x"))
    assert len(openai_server.chat_requests) == 1


async def test_n_candidates_in_one_request(openai_server):
    chat = make_chat(openai_server)
    answers = await chat.achat(user("q"), n=3, seed=7)
    assert answers == ["echo[7:0] q", "echo[7:1] q", "echo[7:2] q"]
    assert len(openai_server.chat_requests) == 1
    assert openai_server.chat_requests[0]["body"]["n"] == 3


async def test_n_falls_back_to_separate_requests(openai_server_factory):
    server = openai_server_factory(honour_n=False)
    chat = make_chat(server)
    answers = await chat.achat(user("q"), n=3, seed=7)
    assert len(answers) == 3 and len(set(answers)) == 3
    seeds = sorted(r["body"].get("seed") for r in server.chat_requests)
    assert seeds == [7, 8, 9]
    assert len(server.chat_requests) == 3


async def test_bounded_concurrency(openai_server_factory):
    server = openai_server_factory(latency=0.1)
    chat = make_chat(server, max_concurrency=3)
    answers = await asyncio.gather(*(chat.achat(user(f"q{i}")) for i in range(15)))
    assert len(answers) == 15
    assert 1 <= server.max_in_flight <= 3


async def test_token_accounting(openai_server):
    openai_server.responder = lambda body: "one two three"
    chat = make_chat(openai_server)
    await chat.achat([{"role": "system", "content": "be brief"},
                      {"role": "user", "content": "how are you"}], n=2)
    stats = chat.stats.snapshot()
    assert stats["prompt_tokens"] == 5
    assert stats["completion_tokens"] == 6
    assert stats["requests"] == 1


def test_sync_wrapper(openai_server):
    chat = make_chat(openai_server)
    assert chat.chat(user("sync"), seed=2) == ["echo[2:0] sync"]
    assert chat.chat(user("again"), seed=2) == ["echo[2:0] again"]
    chat.close()


async def test_repr_and_messages_hide_the_key(openai_server_factory, caplog):
    server = openai_server_factory(require_key="sk-very-secret")
    chat = make_chat(server, api_key="sk-very-secret")
    await chat.achat(user("x"))
    assert "sk-very-secret" not in repr(chat) + repr(chat.connection)
    bad = make_chat(server, api_key="sk-other-secret")
    with pytest.raises(LLMUnavailableError) as info:
        await bad.achat(user("x"))
    assert "secret" not in str(info.value)
    assert "secret" not in caplog.text


async def test_key_echoed_by_the_server_is_redacted(openai_server_factory, caplog):
    # Some servers and proxies quote the key they received in an error body; the message
    # becomes an exception text, a log line and a rejects-file reason, so the key is masked.
    secret = "sk-echoed-0123456789"
    server = openai_server_factory(require_key=secret)

    def echo_key(body):
        raise ValueError(f"key {secret} has no access to this model")

    server.responder = echo_key
    chat = make_chat(server, api_key=secret)
    with caplog.at_level("DEBUG", logger="sqlsynth.llm"), pytest.raises(LLMResponseError) as info:
        await chat.achat(user("x"))
    assert "has no access" in str(info.value)
    assert secret not in str(info.value)
    assert secret not in caplog.text


@pytest.mark.parametrize("status", ["500", "401"])
async def test_no_error_log_or_waiting_reason_shows_an_echoed_key(openai_server_factory, caplog,
                                                                  status):
    # the server quotes the key in shapes no pattern rule knows (prose, URL-encoded, base64)
    from sqlsynth.llm.failures import watch_failures
    from tests.test_redaction import shapes

    secret = "k3y+/=with~odd!chars"
    server = openai_server_factory(require_key=secret, echo_credentials=True)
    server.inject(status, 20)
    chat = make_chat(server, api_key=secret, outage=NO_PAUSE)
    failures = watch_failures()
    with caplog.at_level("DEBUG", logger="sqlsynth.llm"), pytest.raises(LLMResponseError
                                                                        if status == "500"
                                                                        else LLMUnavailableError
                                                                        ) as info:
        await chat.achat(user("x"))
    shown = " ".join([str(info.value), caplog.text, *failures.messages])
    assert "has no access" in shown
    assert not any(shape in shown for shape in shapes(secret))
