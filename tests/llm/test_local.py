"""Local backends: packaged model files are found; real models answer (slow)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import subprocess
import sys
import time

import pytest

from sqlsynth.llm import LLMConfigError, LocalChat, LocalEmbeddings, LocalModelServing
from sqlsynth.llm.local import default_embedding_dir, default_gguf_path, resolve_backend


def test_packaged_models_are_found():
    gguf = default_gguf_path()
    assert gguf.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and gguf.is_file()
    assert (default_embedding_dir() / "config.json").is_file()


def test_backend_choice_and_bad_paths(tmp_path):
    assert resolve_backend("transformers") == "transformers"
    assert resolve_backend("auto") in ("llama_cpp", "transformers")
    with pytest.raises(LLMConfigError):
        resolve_backend("onnx")
    with pytest.raises(LLMConfigError, match="not found"):
        LocalChat(tmp_path / "missing.gguf")
    with pytest.raises(LLMConfigError, match="not found"):
        LocalEmbeddings(tmp_path / "missing")


def test_importing_the_layer_stays_light():
    code = ("import sys, sqlsynth.llm, sqlsynth.testing; from sqlsynth.llm import LocalChat, "
            "ResponseCache, UsageStats; heavy = {'torch', 'llama_cpp', 'sentence_transformers', "
            "'transformers', 'openai'} & set(sys.modules); print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


QUESTION = [{"role": "user", "content": "Name the capital of France in one word."}]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["llama_cpp", "transformers"])
async def test_local_chat_answers(backend, tmp_path):
    if backend == "llama_cpp":
        pytest.importorskip("llama_cpp")
    chat = LocalChat(backend=backend, cache=tmp_path / "c.sqlite", max_tokens=24, seed=1)
    answers = await chat.achat(QUESTION, n=2, temperature=0.5)
    assert len(answers) == 2 and all(a.strip() for a in answers)
    stats = chat.stats.snapshot()
    assert stats["requests"] == 2 and stats["prompt_tokens"] > 5
    assert 0 < stats["completion_tokens"] <= 2 * 24
    assert await chat.achat(QUESTION, n=2, temperature=0.5) == answers
    assert chat.stats.snapshot()["cache_hits"] == 2


# the packaged model repeats itself to max_tokens on this one (1,500 tokens: ~20-60 s)
LONG = [{"role": "user", "content": "Write a very long essay about the history of relational "
                                    "databases, with at least twenty sections."}]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["llama_cpp", "transformers"])
def test_a_cancelled_local_generation_ends_at_the_next_token(backend):
    """Ctrl-C (a cancelled request) must not wait for the whole answer: asyncio.run waits for
    the generating worker thread, so this measures when the generation really stopped."""
    if backend == "llama_cpp":
        pytest.importorskip("llama_cpp")
    chat = LocalChat(backend=backend, cache=None, max_tokens=16, seed=1, temperature=0.0)
    chat.warm_up()

    async def cancel_after(seconds: float) -> None:
        task = asyncio.ensure_future(chat.achat(LONG, max_tokens=1500))
        await asyncio.sleep(seconds)
        assert not task.done(), "the 1,500-token answer is still being generated"
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    start = time.monotonic()
    asyncio.run(cancel_after(1.5))
    assert time.monotonic() - start < 1.5 + 8.0, "hang guard: 20-60 s to generate it all"
    # the model is usable again afterwards, with the same answers as before
    fresh = LocalChat(backend=backend, cache=None, max_tokens=16, seed=1, temperature=0.0)
    assert chat.chat(QUESTION) == fresh.chat(QUESTION)


@pytest.mark.slow
async def test_local_embeddings_are_semantic(tmp_path):
    emb = LocalEmbeddings(cache=tmp_path / "c.sqlite")
    a, b, c = await emb.aembed(["How many employees work in each department?",
                                "Count the staff members per department.",
                                "The weather is sunny at the beach today."])
    assert len(a) == 384
    assert abs(math.sqrt(sum(x * x for x in a)) - 1.0) < 1e-4
    dot = lambda x, y: sum(p * q for p, q in zip(x, y))
    assert dot(a, b) > dot(a, c) + 0.2


@pytest.mark.slow
def test_local_serving_reference_methods(tmp_path):
    serving = LocalModelServing(cache=tmp_path / "c.sqlite", max_tokens=16, seed=0)
    answers = serving.generate_from_input(["Say hello."], system_prompt="You are brief.")
    assert len(answers) == 1 and answers[0].strip()
    assert len(serving.generate_embedding_from_input(["hello"])[0]) == 384


def test_a_prompt_the_local_model_cannot_take_is_a_refused_request(tmp_path) -> None:
    """In-process and deterministic: a rerun would fail the same way, so the row gets a
    verdict (rejected with the reason) instead of waiting on an "outage" forever."""
    import asyncio

    from sqlsynth.llm.errors import LLMRequestRefusedError
    from sqlsynth.llm.local import LocalChat

    fake_gguf = tmp_path / "tiny.gguf"
    fake_gguf.write_bytes(b"GGUF")

    class TooLong:
        def generate(self, messages, **kw):
            raise ValueError("Requested tokens (4519) exceed context window of 4096")

    chat = LocalChat(fake_gguf, backend="auto", cache=None)
    chat._engine = TooLong()
    with pytest.raises(LLMRequestRefusedError, match="exceed context window"):
        asyncio.run(chat.achat([{"role": "user", "content": "x" * 10}]))


_FREED_IN_ORDER = """
import gc
from sqlsynth.llm import LocalChat
QUESTION = [{"role": "user", "content": "Name the capital of France in one word."}]

def loaded_and_watched():
    chat = LocalChat(backend="llama_cpp", cache=None, max_tokens=4, seed=1)
    assert chat.chat(QUESTION)
    llm = chat._engine.llm
    assert getattr(llm, "_sampler", None) is None, "the last sampler (and closure) is kept"
    closed = []
    original = llm.close
    llm.close = lambda: (closed.append(True), original())[1]
    return chat, closed

gc.disable()
chat, closed = loaded_and_watched()
del chat
assert closed == [True], "not closed as soon as the LocalChat went"
chat, closed = loaded_and_watched()
chat.cycle = chat  # only the cycle collector can free this one
del chat
assert closed == []
gc.collect()
assert closed == [True], "not closed by the finalizer when the cycle was collected"
print("ok")
"""


@pytest.mark.slow
def test_a_llama_model_is_freed_in_order_never_by_the_cycle_collector():
    """llama-cpp-python's objects must be freed by ``Llama.close()`` (context, samplers, then
    model), never by the garbage collector, which calls their destructors in any order and
    crashes the process: no generation keeps its sampler (a cycle through the model), and a
    LocalChat's model is closed by a finalizer, when the LocalChat goes or before any
    destructor of a cycle it is caught in runs. In a fresh interpreter, with the collector
    off, so that nothing else of the test session holds a reference."""
    pytest.importorskip("llama_cpp")
    done = subprocess.run([sys.executable, "-c", _FREED_IN_ORDER], capture_output=True,
                          text=True, check=False, timeout=300)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]


@pytest.mark.slow
def test_unload_frees_the_model_and_it_loads_again():
    pytest.importorskip("llama_cpp")
    chat = LocalChat(backend="llama_cpp", cache=None, max_tokens=4, seed=1)
    assert chat.chat(QUESTION)
    chat.unload()
    assert chat._engine is None and chat.chat(QUESTION)  # loaded again on demand
