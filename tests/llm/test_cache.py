"""The response cache: keys, replay after an interrupted run, n growth, no secrets on disk."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sqlsynth.llm import OpenAIChat, ResponseCache, RetryPolicy, default_cache_path
from sqlsynth.llm.cache import chat_key

REPO = Path(__file__).resolve().parents[2]
PARAMS = {"temperature": 0.5, "top_p": None, "max_tokens": 10, "seed": 1, "stop": None,
          "extra_body": None}


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def test_key_depends_on_what_decides_the_answer():
    base = chat_key("m", user("q"), PARAMS, 0)
    assert base == chat_key("m", user("q"), dict(PARAMS), 0)
    assert base != chat_key("m2", user("q"), PARAMS, 0)
    assert base != chat_key("m", user("q2"), PARAMS, 0)
    assert base != chat_key("m", user("q"), PARAMS, 1)
    for name, value in [("temperature", 0.6), ("top_p", 0.9), ("max_tokens", 11), ("seed", 2),
                        ("stop", [";"]), ("extra_body", {"top_k": 5})]:
        assert base != chat_key("m", user("q"), {**PARAMS, name: value}, 0), name


def test_default_path_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("SQLSYNTH_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_path() == tmp_path / "c" / "llm_cache.sqlite"
    monkeypatch.delenv("SQLSYNTH_CACHE_DIR")
    assert default_cache_path() == Path(".sqlsynth") / "llm_cache.sqlite"


def test_roundtrip_and_concurrent_threads(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    cache = ResponseCache(tmp_path / "c.sqlite")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: cache.put_texts({f"k{i}": f"v{i}"}, model="m"), range(200)))
    assert len(cache) == 200
    assert cache.get_texts(["k3", "k7", "missing"]) == {"k3": "v3", "k7": "v7"}
    cache.put_vectors({"e": [0.1, -2.5, 3.0]}, model="m")
    assert cache.get_vectors(["e"]) == {"e": [0.1, -2.5, 3.0]}
    assert cache.path.with_name(cache.path.name + "-wal").exists()  # WAL mode
    cache.close()


async def test_second_run_is_served_from_cache(openai_server, tmp_path):
    path = tmp_path / "cache.sqlite"
    first = OpenAIChat("m", base_url=openai_server.base_url, cache=path, seed=3)
    answers = await first.achat(user("q"), n=2)
    await first.aclose()
    other_url = f"http://localhost:{openai_server.port}/v1"  # base_url is not in the key
    second = OpenAIChat("m", base_url=other_url, cache=path, seed=3)
    assert await second.achat(user("q"), n=2) == answers
    assert len(openai_server.chat_requests) == 1
    assert second.stats.snapshot()["cache_hits"] == 2
    assert second.stats.snapshot()["requests"] == 0
    await second.aclose()


async def test_growing_n_reuses_cached_candidates(openai_server, tmp_path):
    path = tmp_path / "cache.sqlite"
    chat = OpenAIChat("m", base_url=openai_server.base_url, cache=path)
    three = await chat.achat(user("q"), n=3)
    five = await chat.achat(user("q"), n=5)
    assert five[:3] == three and len(five) == 5
    bodies = [r["body"] for r in openai_server.chat_requests]
    assert [b.get("n", 1) for b in bodies] == [3, 2]
    assert len(ResponseCache(path)) == 5
    await chat.aclose()


async def test_growing_n_with_seed_asks_new_seeds(openai_server, tmp_path):
    chat = OpenAIChat("m", base_url=openai_server.base_url, cache=tmp_path / "c.sqlite",
                      seed=10)
    await chat.achat(user("q"), n=2)
    four = await chat.achat(user("q"), n=4)
    assert len(set(four)) == 4  # the new candidates are not repeats of the first two
    seeds = sorted(r["body"]["seed"] for r in openai_server.chat_requests[1:])
    assert seeds == [12, 13]
    await chat.aclose()


async def test_cache_off(openai_server):
    chat = OpenAIChat("m", base_url=openai_server.base_url, cache=None)
    await chat.achat(user("q"))
    await chat.achat(user("q"))
    assert len(openai_server.chat_requests) == 2
    await chat.aclose()


def cached_prompts(path: Path, prompts: list[str]) -> set[str]:
    """Which prompts of a default-parameter run with model "m" have an answer in the cache."""
    from sqlsynth.llm.base import SamplingParams

    params = SamplingParams().key_dict()
    keys = {chat_key("m", user(p), params, 0): p for p in prompts}
    with ResponseCache(path) as cache:
        return {keys[k] for k in cache.get_texts(list(keys))}


def answered(server) -> set[str]:
    return {r["body"]["messages"][0]["content"] for r in server.chat_requests
            if r["status"] == 200}


async def test_cancelled_run_keeps_finished_answers(openai_server_factory, tmp_path):
    server = openai_server_factory(latency=0.05)
    path = tmp_path / "cache.sqlite"
    chat = OpenAIChat("m", base_url=server.base_url, cache=path, max_concurrency=2)
    prompts = [f"question {i}" for i in range(30)]
    task = asyncio.ensure_future(asyncio.gather(*(chat.achat(user(p)) for p in prompts)))
    while len(answered(server)) < 6:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await chat.aclose()
    # requests the cancelled run had already sent may still be inside the server: let them
    # land before counting, so the rerun's requests are told apart from them
    seen = -1
    for _ in range(100):
        if server.in_flight == 0 and len(server.requests) == seen:
            break
        seen = len(server.requests)
        await asyncio.sleep(0.1)
    cached = cached_prompts(path, prompts)
    assert len(cached) >= len(answered(server)) - 2  # at most the two in flight are lost
    assert 4 <= len(cached) < 30

    before = len(server.chat_requests)
    rerun = OpenAIChat("m", base_url=server.base_url, cache=path, max_concurrency=8)
    await asyncio.gather(*(rerun.achat(user(p)) for p in prompts))
    asked_again = [r["body"]["messages"][0]["content"] for r in server.chat_requests[before:]]
    assert sorted(asked_again) == sorted(set(prompts) - cached)
    assert rerun.stats.snapshot()["cache_hits"] == len(cached)
    await rerun.aclose()


_KILLED_RUN = textwrap.dedent("""
    import asyncio, sys
    from sqlsynth.llm import OpenAIChat
    base_url, cache_path = sys.argv[1], sys.argv[2]
    async def main():
        chat = OpenAIChat("m", base_url=base_url, cache=cache_path, max_concurrency=2)
        await asyncio.gather(*(chat.achat([{"role": "user", "content": f"question {i}"}])
                               for i in range(40)))
    asyncio.run(main())
""")


def test_kill_9_loses_nothing_answered(openai_server_factory, tmp_path):
    server = openai_server_factory(latency=0.05)
    path = tmp_path / "cache.sqlite"
    prompts = [f"question {i}" for i in range(40)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_RUN, server.base_url, str(path)],
                            env=env)
    deadline = time.monotonic() + 60
    while len(answered(server)) < 8:
        assert proc.poll() is None and time.monotonic() < deadline, "subprocess ended early"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    paid = answered(server)
    cached = cached_prompts(path, prompts)
    assert cached <= paid
    assert len(cached) >= len(paid) - 2  # only answers still in transit at the kill are lost

    server.latency = 0.0
    before = len(server.chat_requests)
    rerun = OpenAIChat("m", base_url=server.base_url, cache=path)
    assert all(len(rerun.chat(user(p))) == 1 for p in prompts)
    asked_again = [r["body"]["messages"][0]["content"] for r in server.chat_requests[before:]]
    assert sorted(asked_again) == sorted(set(prompts) - cached)  # no cached prompt paid twice
    assert rerun.stats.snapshot()["cache_hits"] == len(cached)
    rerun.close()


async def test_api_key_never_reaches_the_cache_file(openai_server_factory, tmp_path):
    secret = "sk-test-0123456789-secret"
    server = openai_server_factory(require_key=secret)
    path = tmp_path / "cache.sqlite"
    chat = OpenAIChat("m", base_url=server.base_url, api_key=secret, cache=path,
                      retry=RetryPolicy(base_delay=0.01))
    await chat.achat(user("q"), n=2)
    emb_path = tmp_path / "emb.sqlite"
    from sqlsynth.llm import OpenAIEmbeddings

    emb = OpenAIEmbeddings("e", base_url=server.base_url, api_key=secret, cache=emb_path)
    await emb.aembed(["a", "b"])
    await chat.aclose()
    await emb.aclose()
    ResponseCache(path).close()
    for file in tmp_path.iterdir():
        assert secret.encode() not in file.read_bytes(), file
