"""``RequestLimit``: chat and embeddings together never exceed ``--concurrency`` in flight."""

from __future__ import annotations

import asyncio

import pytest

from sqlsynth import factory
from sqlsynth.config import RunConfig
from sqlsynth.llm.limits import RequestLimit
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
