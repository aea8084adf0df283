"""Grammar-constrained chat: the grammar keys the cache only where a backend applies it."""

from __future__ import annotations

import pytest

from sqlsynth.llm import LLMConfigError, LocalChat, OpenAIChat
from sqlsynth.llm.base import CachedChat, SamplingParams
from sqlsynth.llm.cache import chat_key

GRAMMAR_A = 'root ::= "yes" | "no"'
GRAMMAR_B = 'root ::= "maybe"'


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


class RecordingChat(CachedChat):
    """A backend that records the parameters it was asked with and echoes the grammar."""

    model = "recording"

    def __init__(self, *, grammar_support: bool, cache) -> None:
        super().__init__(cache=cache)
        self.grammar_support = grammar_support
        self.seen: list[SamplingParams] = []

    @property
    def supports_grammar(self) -> bool:
        return self.grammar_support

    async def _generate(self, messages, indices, params, deliver) -> None:
        self.seen.append(params)
        for i in indices:
            deliver(i, f"answer {i} under {params.grammar!r}")


def test_none_grammar_keeps_the_old_key():
    old = {"temperature": 0.5, "top_p": None, "max_tokens": 10, "seed": 1, "stop": None,
           "extra_body": None}
    params = SamplingParams(temperature=0.5, max_tokens=10, seed=1)
    assert params.key_dict() == old
    assert params.merged(grammar=None).key_dict() == old
    assert chat_key("m", user("q"), params.key_dict(), 0) == chat_key("m", user("q"), old, 0)


def test_different_grammars_give_different_keys():
    params = SamplingParams(temperature=0.5, seed=1)
    keys = {chat_key("m", user("q"), p.key_dict(), 0)
            for p in (params, params.merged(grammar=GRAMMAR_A), params.merged(grammar=GRAMMAR_B))}
    assert len(keys) == 3


async def test_supporting_backend_applies_and_caches_per_grammar(tmp_path):
    chat = RecordingChat(grammar_support=True, cache=tmp_path / "c.sqlite")
    plain = await chat.achat(user("q"), seed=3)
    a = await chat.achat(user("q"), seed=3, grammar=GRAMMAR_A)
    b = await chat.achat(user("q"), seed=3, grammar=GRAMMAR_B)
    assert [p.grammar for p in chat.seen] == [None, GRAMMAR_A, GRAMMAR_B]
    assert len({plain[0], a[0], b[0]}) == 3
    assert await chat.achat(user("q"), seed=3, grammar=GRAMMAR_A) == a
    assert len(chat.seen) == 3 and chat.stats.snapshot()["cache_hits"] == 1


async def test_backend_without_support_ignores_the_grammar(tmp_path):
    chat = RecordingChat(grammar_support=False, cache=tmp_path / "c.sqlite")
    first = await chat.achat(user("q"), seed=3, grammar=GRAMMAR_A)
    assert chat.seen[0].grammar is None
    # the unconstrained answer is the same answer: served from the cache, key unchanged
    assert await chat.achat(user("q"), seed=3) == first
    assert await chat.achat(user("q"), seed=3, grammar=GRAMMAR_B) == first
    assert len(chat.seen) == 1


async def test_grammar_must_be_text(tmp_path):
    chat = RecordingChat(grammar_support=True, cache=None)
    with pytest.raises(TypeError, match="GBNF"):
        await chat.achat(user("q"), grammar=object())  # type: ignore[arg-type]
    await chat.achat(user("q"), grammar="")
    assert chat.seen[-1].grammar is None


async def test_openai_chat_ignores_grammar_by_default(openai_server, tmp_path):
    chat = OpenAIChat("m", base_url=openai_server.base_url, cache=tmp_path / "c.sqlite",
                      timeout=10.0)
    try:
        first = await chat.achat(user("q"), seed=1, grammar=GRAMMAR_A)
        assert "grammar" not in openai_server.chat_requests[0]["body"]
        assert await chat.achat(user("q"), seed=1) == first  # same key as without a grammar
        assert len(openai_server.chat_requests) == 1
    finally:
        await chat.aclose()


async def test_openai_chat_passes_grammar_through_when_configured(openai_server, tmp_path):
    chat = OpenAIChat("m", base_url=openai_server.base_url, cache=tmp_path / "c.sqlite",
                      timeout=10.0, grammar_passthrough=True, extra_body={"top_k": 5})
    try:
        await chat.achat(user("q"), seed=1, grammar=GRAMMAR_A)
        await chat.achat(user("q"), seed=1)
        await chat.achat(user("q"), seed=1, grammar=GRAMMAR_B)
        bodies = [r["body"] for r in openai_server.chat_requests]
        assert [b.get("grammar") for b in bodies] == [GRAMMAR_A, None, GRAMMAR_B]
        assert all(b["top_k"] == 5 for b in bodies)
    finally:
        await chat.aclose()


def test_only_the_llama_cpp_backend_supports_grammars():
    assert not LocalChat(backend="transformers", cache=None).supports_grammar
    pytest.importorskip("llama_cpp")  # an explicit backend that is not installed is refused
    assert LocalChat(backend="llama_cpp", cache=None).supports_grammar


def _vocab_only_llama():
    llama_cpp = pytest.importorskip("llama_cpp")
    from sqlsynth.llm.local import default_gguf_path

    return llama_cpp.Llama(model_path=str(default_gguf_path()), vocab_only=True, verbose=False)


def test_compile_grammar_rejects_malformed_text():
    from sqlsynth.llm.local import compile_grammar

    llm = _vocab_only_llama()
    assert compile_grammar(llm, GRAMMAR_A) is not None
    with pytest.raises(LLMConfigError, match="invalid GBNF"):
        compile_grammar(llm, 'root ::= "unterminated')
    with pytest.raises(LLMConfigError, match="undefined_rule"):
        compile_grammar(llm, "root ::= undefined_rule")


@pytest.mark.slow
async def test_local_chat_follows_a_grammar(tmp_path):
    pytest.importorskip("llama_cpp")
    chat = LocalChat(backend="llama_cpp", cache=tmp_path / "c.sqlite", max_tokens=8, seed=0)
    assert chat.supports_grammar
    question = user("Is Paris the capital of France? Answer yes or no.")
    answers = await chat.achat(question, n=3, temperature=1.0, grammar=GRAMMAR_A)
    assert all(a in ("yes", "no") for a in answers)
    assert await chat.achat(question, n=3, temperature=1.0, grammar=GRAMMAR_A) == answers
    assert chat.stats.snapshot()["requests"] == 3


def test_packaged_local_model_caps_the_temperature():
    from sqlsynth.llm.local import PACKAGED_MODEL_MAX_TEMPERATURE, default_gguf_path

    hot = SamplingParams(temperature=0.8, seed=1)
    packaged = LocalChat(cache=None)
    assert packaged.adjusted(hot).temperature == PACKAGED_MODEL_MAX_TEMPERATURE
    assert packaged.adjusted(SamplingParams()).temperature == PACKAGED_MODEL_MAX_TEMPERATURE
    assert packaged.adjusted(hot.merged(temperature=0.1)).temperature == 0.1
    assert LocalChat(default_gguf_path(), cache=None).adjusted(hot) == hot
    assert LocalChat(cache=None, max_temperature=1.0).adjusted(hot) == hot
    with pytest.raises(LLMConfigError, match="max_temperature"):
        LocalChat(cache=None, max_temperature=-1)


async def test_capped_temperature_keys_the_cache(tmp_path):
    class Capped(RecordingChat):
        def adjusted(self, params):
            return params.merged(temperature=min(params.temperature, 0.3))

    chat = Capped(grammar_support=True, cache=tmp_path / "c.sqlite")
    first = await chat.achat(user("q"), temperature=0.9, seed=1)
    assert chat.seen[0].temperature == 0.3
    assert await chat.achat(user("q"), temperature=0.3, seed=1) == first
    assert len(chat.seen) == 1
