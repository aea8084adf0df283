"""OpenAIEmbeddings: batching, per-text cache, order, accounting."""

from __future__ import annotations

import math

import pytest

from sqlsynth.llm import LLMResponseError, OpenAIEmbeddings, RetryPolicy
from sqlsynth.llm.outage import OutagePolicy


def norm(vector: list[float]) -> float:
    return math.sqrt(sum(x * x for x in vector))


async def test_batches_and_caches_per_text(openai_server, tmp_path):
    emb = OpenAIEmbeddings("e", base_url=openai_server.base_url, batch_size=64,
                           cache=tmp_path / "c.sqlite")
    texts = [f"text number {i}" for i in range(140)] + ["text number 3"] * 10
    vectors = await emb.aembed(texts)
    assert len(vectors) == 150 and all(len(v) == 32 for v in vectors)
    assert vectors[140] == vectors[3]
    assert all(abs(norm(v) - 1.0) < 1e-5 for v in vectors)
    sizes = sorted(len(r["body"]["input"]) for r in openai_server.embedding_requests)
    assert sizes == [12, 64, 64]  # 140 distinct texts
    assert emb.stats.snapshot()["prompt_tokens"] == 140 * 3

    again = await emb.aembed(["text number 7", "a new text"])
    assert again[0] == vectors[7]
    assert len(openai_server.embedding_requests) == 4
    assert openai_server.embedding_requests[-1]["body"]["input"] == ["a new text"]
    assert emb.stats.snapshot()["cache_hits"] == 1
    await emb.aclose()


async def test_similar_texts_are_closer(scripted_embeddings):
    a, b, c = await scripted_embeddings.aembed(
        ["total sales per region", "sales per region in total", "list patients by ward"])
    dot = lambda x, y: sum(p * q for p, q in zip(x, y))
    assert dot(a, b) > dot(a, c)


async def test_retries_then_fails_on_server_errors(openai_server):
    emb = OpenAIEmbeddings("e", base_url=openai_server.base_url, cache=None,
                           retry=RetryPolicy(max_retries=1, base_delay=0.01),
                           outage=OutagePolicy(max_outage=0))  # retry counting alone
    openai_server.inject("500")
    assert len(await emb.aembed(["x"])) == 1
    openai_server.inject("malformed", count=2)
    with pytest.raises(LLMResponseError):
        await emb.aembed(["y"])


def test_sync_embed_and_string_guard(openai_server):
    emb = OpenAIEmbeddings("e", base_url=openai_server.base_url, cache=None, batch_size=2)
    assert len(emb.embed(["a", "b", "c"])) == 3
    assert len(openai_server.embedding_requests) == 2
    with pytest.raises(TypeError):
        emb.embed("not a list")
    emb.close()
