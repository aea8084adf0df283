"""Test helpers that ship with the package, so benchmarks and users can script an LLM server."""

from sqlsynth.testing.fake_openai import ScriptedOpenAIServer, echo_responder, fake_embedding

__all__ = ["ScriptedOpenAIServer", "echo_responder", "fake_embedding"]
