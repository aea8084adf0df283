"""``RequestLimit``: chat and embeddings together never exceed ``--concurrency`` in flight."""

from __future__ import annotations

import asyncio

import pytest

from sqlsynth import factory
from sqlsynth.config import RunConfig
from sqlsynth.llm.limits import REQUEST_PRIORITY, PrioritySemaphore, RequestLimit
from sqlsynth.testing import ScriptedOpenAIServer


async def _burst(cfg: RunConfig) -> None:
    chat, embeddings = factory.make_models(cfg)
    try:
        await asyncio.gather(
            *(chat.achat([{"role": "user", "content": f"q{i}"}]) for i in range(12)),
            *(embeddings.aembed([f"text {i}"]) for i in range(12)),
        )
    finally:
        await chat.aclose()
        await embeddings.aclose()


def _config(tmp_path, server: ScriptedOpenAIServer, **kw) -> RunConfig:
    return RunConfig(out=str(tmp_path), base_url=server.base_url, model="m",
                     embedding_model="e", llm_cache=False, **kw)


async def test_chat_and_embeddings_share_the_total(tmp_path) -> None:
    with ScriptedOpenAIServer(latency=0.05) as server:
        await _burst(_config(tmp_path, server, concurrency=4))
        assert len(server.requests) == 24
        assert server.max_in_flight == 4, "--concurrency counts both kinds of request"


async def test_embedding_endpoint_limit_within_the_total(tmp_path) -> None:
    with ScriptedOpenAIServer(latency=0.05) as chat_server, \
            ScriptedOpenAIServer(latency=0.05) as embedding_server:
        cfg = _config(tmp_path, chat_server, concurrency=6, embedding_concurrency=2,
                      embedding_base_url=embedding_server.base_url)
        await _burst(cfg)
        assert embedding_server.max_in_flight == 2
        assert chat_server.max_in_flight <= 6
        assert chat_server.max_in_flight >= 4


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        RequestLimit(0)


async def test_limit_keeps_one_semaphore_per_loop() -> None:
    limit = RequestLimit(2)
    assert limit.semaphore() is limit.semaphore()


async def test_waiters_are_served_by_priority_then_in_arrival_order() -> None:
    semaphore = PrioritySemaphore(1)
    await semaphore.acquire()
    served: list[str] = []

    async def wait(name: str, priority: int) -> None:
        REQUEST_PRIORITY.set(priority)
        async with semaphore:
            served.append(name)

    tasks = []
    for name, priority in [("late-step-a", 5), ("early-step-a", 1), ("late-step-b", 5),
                           ("early-step-b", 1), ("middle", 3)]:
        tasks.append(asyncio.create_task(wait(name, priority)))
        await asyncio.sleep(0)  # queued in this order
    semaphore.release()
    await asyncio.gather(*tasks)
    assert served == ["early-step-a", "early-step-b", "middle", "late-step-a", "late-step-b"]


async def test_a_cancelled_waiter_never_keeps_a_slot() -> None:
    semaphore = PrioritySemaphore(1)
    await semaphore.acquire()
    cancelled = asyncio.create_task(semaphore.acquire())
    await asyncio.sleep(0)
    semaphore.release()  # granted to the waiter ...
    cancelled.cancel()  # ... which is cancelled before it runs: the slot is passed on
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    queued = asyncio.create_task(semaphore.acquire())
    gone = asyncio.create_task(semaphore.acquire())
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.sleep(0)
    assert await asyncio.wait_for(queued, 1.0) is True
    assert semaphore.locked()
    semaphore.release()
    assert not semaphore.locked()


async def test_the_total_is_never_exceeded_under_priorities() -> None:
    semaphore = PrioritySemaphore(3)
    inside = peak = 0

    async def one(priority: int) -> None:
        nonlocal inside, peak
        REQUEST_PRIORITY.set(priority)
        async with semaphore:
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.001)
            inside -= 1

    await asyncio.gather(*(one(i % 4) for i in range(60)))
    assert peak == 3 and inside == 0 and not semaphore.locked()
