"""The client against outages, black holes, slow bodies and empty answers (scripted server)."""

from __future__ import annotations

import asyncio
import time

import pytest

from sqlsynth.llm import OpenAIChat
from sqlsynth.llm.cache import ResponseCache
from sqlsynth.llm.config import check_base_url
from sqlsynth.llm.errors import (
    LLMConfigError,
    LLMNeverAnsweredError,
    LLMOutageError,
    LLMResponseError,
    LLMUnavailableError,
)
from sqlsynth.llm.failures import watch_failures
from sqlsynth.llm.outage import OutagePolicy
from sqlsynth.llm.retry import RetryPolicy
from sqlsynth.testing.fake_openai import TRANSPORT_FAULTS

FAST = RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.05)
QUICK_GATE = OutagePolicy(failures_to_pause=3, probe_delay=0.1, max_probe_delay=0.3,
                          max_outage=30)


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def chat_for(server, **kw) -> OpenAIChat:
    kw.setdefault("cache", None)
    kw.setdefault("retry", FAST)
    return OpenAIChat("m", base_url=server.base_url, **kw)


@pytest.mark.parametrize("kind", TRANSPORT_FAULTS)
async def test_every_transport_fault_is_retried(openai_server, kind):
    chat = chat_for(openai_server)
    openai_server.inject(kind)
    assert await chat.achat(user("x"), seed=1) == ["echo[1:0] x"]
    await chat.aclose()


@pytest.mark.parametrize("kind", ["null_content", "empty_content"])
async def test_null_or_empty_completion_is_a_failure_never_cached(openai_server, tmp_path, kind):
    cache = ResponseCache(tmp_path / "c.sqlite")
    chat = chat_for(openai_server, cache=cache, outage=OutagePolicy(max_outage=0))
    openai_server.inject(kind, count=3)  # more than the retries, and no outage pause
    log = watch_failures()
    with pytest.raises(Exception, match="content is"):
        await chat.achat(user("x"), seed=1)
    assert log, "the failure is recorded for the row"
    assert await chat.achat(user("x"), seed=1) == ["echo[1:0] x"]
    assert len(openai_server.chat_requests) == 4  # nothing empty was served from the cache
    await chat.aclose()


async def test_slow_drip_body_is_cut_at_the_deadline(openai_server):
    openai_server.drip_seconds = 20.0
    chat = chat_for(openai_server, timeout=0.5)
    openai_server.inject("drip")
    start = time.monotonic()
    assert len(await chat.achat(user("x"))) == 1
    assert time.monotonic() - start < 10, "hang guard: the 20 s body was cut after 0.5 s"
    await chat.aclose()


async def test_black_hole_stops_after_about_two_timeouts(openai_server):
    openai_server.black_hole = True
    chat = chat_for(openai_server, timeout=0.5, max_concurrency=4)
    start = time.monotonic()
    results = await asyncio.gather(*(chat.achat(user(str(i))) for i in range(20)),
                                   return_exceptions=True)
    elapsed = time.monotonic() - start
    assert all(isinstance(r, LLMNeverAnsweredError) for r in results), results
    assert all(isinstance(r, LLMUnavailableError) for r in results)
    assert len({str(r) for r in results}) == 1 and "timed out" in str(results[0])
    assert elapsed < 5, "hang guard: about twice the 0.5 s timeout"
    assert len(openai_server.chat_requests) <= 3 * 4
    await chat.aclose()


async def test_outage_is_ridden_out_without_spending_retries(openai_server):
    chat = chat_for(openai_server, outage=QUICK_GATE)
    await chat.achat(user("warm"))
    openai_server.outage(1.5)
    answers = await asyncio.gather(*(chat.achat(user(f"q{i}")) for i in range(20)))
    assert len(answers) == 20  # each with 2 retries: without the gate most would fail
    # the first wave hit the outage, then requests waited for the gate: a few probes only
    assert 0 < openai_server.outage_requests < 20 + 15
    await chat.aclose()


async def test_a_lone_request_rides_out_an_outage_longer_than_its_retries(openai_server):
    """Alone on its connection (the last row's embedding, say), a request never sees enough
    failures in a row to close the gate; its last retry closes it instead."""
    gate = OutagePolicy(failures_to_pause=50, probe_delay=0.1, max_probe_delay=0.3,
                        max_outage=30)
    chat = chat_for(openai_server, outage=gate)
    await chat.achat(user("warm"))
    openai_server.outage(1.5)
    assert await chat.achat(user("alone"), seed=1) == ["echo[1:0] alone"]
    assert openai_server.outage_requests < 3 + 15
    await chat.aclose()


async def test_a_request_that_always_fails_cannot_hold_the_others(openai_server_factory):
    """One request the server always fails, among requests it answers: the failing one gets
    its retries and one pause, takes the probe only in turn, and fails long before
    max_outage; every other request is answered."""
    def responder(body):
        text = body["messages"][-1]["content"]
        if text == "poison":
            raise RuntimeError("this prompt always fails")
        return f"ok {text}"

    server = openai_server_factory(responder)
    gate = OutagePolicy(failures_to_pause=50, probe_delay=0.05, max_probe_delay=0.1,
                        max_outage=60)
    chat = chat_for(server, outage=gate, max_concurrency=4)
    await chat.achat(user("warm"))
    poison = asyncio.ensure_future(chat.achat(user("poison")))
    answered = 0
    start = time.monotonic()
    while not poison.done():
        assert time.monotonic() - start < 30, "hang guard: the failing request held the run"
        results = await asyncio.gather(*(chat.achat(user(f"q{answered + i}")) for i in range(3)))
        answered += len(results)
    with pytest.raises(LLMResponseError, match="responder failed"):
        poison.result()
    assert time.monotonic() - start < 20
    await chat.aclose()


@pytest.mark.parametrize("kind", ["503", "reset", "429"])
async def test_outage_longer_than_max_outage_fails_requests(openai_server, kind):
    policy = OutagePolicy(failures_to_pause=2, probe_delay=0.05, max_probe_delay=0.1,
                          max_outage=0.5)
    chat = chat_for(openai_server, outage=policy)
    await chat.achat(user("warm"))
    openai_server.outage(3600, kind=kind)
    log = watch_failures()
    start = time.monotonic()
    results = await asyncio.gather(*(chat.achat(user(f"q{i}")) for i in range(10)),
                                   return_exceptions=True)
    assert all(isinstance(r, LLMOutageError) for r in results), results
    assert "max_outage" in str(results[0])
    assert time.monotonic() - start < 10, "hang guard"
    assert log
    await chat.aclose()


async def test_refused_connections_after_answers_are_an_outage_not_unavailable(
    openai_server_factory,
):
    server = openai_server_factory()
    chat = chat_for(server, outage=OutagePolicy(failures_to_pause=2, probe_delay=0.05,
                                                max_probe_delay=0.1, max_outage=0.5))
    await chat.achat(user("warm"))
    server.stop()  # the server goes away after having answered
    with pytest.raises(LLMOutageError):
        await chat.achat(user("later"))
    await chat.aclose()


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:99999/v1", "http://127.0.0.1:abc/v1", "ftp://host/v1",
            "http:///v1", "localhost:8000/v1", "http://127.0.0.1:0/v1"])
def test_bad_base_urls_are_config_errors(url):
    with pytest.raises(LLMConfigError, match="invalid base URL"):
        check_base_url(url)
    with pytest.raises(LLMConfigError):
        OpenAIChat("m", base_url=url, cache=None)


def test_base_url_password_is_masked_in_the_error():
    with pytest.raises(LLMConfigError) as info:
        check_base_url("http://me:Sup3rSecret@127.0.0.1:99999/v1")
    assert "Sup3rSecret" not in str(info.value)


async def test_empty_answers_are_never_cached_by_any_backend(tmp_path):
    from sqlsynth.llm.base import CachedChat

    class Backend(CachedChat):
        model = "b"

        def __init__(self, texts, **kw):
            super().__init__(**kw)
            self.texts = list(texts)
            self.calls = 0

        async def _generate(self, messages, indices, params, deliver):
            for i in indices:
                self.calls += 1
                deliver(i, self.texts.pop(0))

    cache = ResponseCache(tmp_path / "c.sqlite")
    first = Backend(["", "  "], cache=cache)
    assert await first.achat(user("x"), n=2) == ["", "  "]
    second = Backend(["real", "also real"], cache=cache)
    assert await second.achat(user("x"), n=2) == ["real", "also real"]
    assert second.calls == 2  # nothing empty was replayed
    third = Backend([], cache=cache)
    assert await third.achat(user("x"), n=2) == ["real", "also real"]
