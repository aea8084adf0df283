"""Local backends: packaged model files are found; real models answer (slow)."""

from __future__ import annotations

import math
import subprocess
import sys

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
