"""LLM layer: OpenAI-compatible and local chat/embedding models, response cache, accounting.

Names are imported lazily so ``import sqlsynth.llm`` stays cheap (no openai, no torch).
"""

from __future__ import annotations

from sqlsynth._lazy import lazy_exports

_EXPORTS = {
    "ChatModel": "base",
    "EmbeddingModel": "base",
    "SamplingParams": "base",
    "run_sync": "base",
    "ResponseCache": "cache",
    "default_cache_path": "cache",
    "UsageStats": "stats",
    "LLMError": "errors",
    "LLMUnavailableError": "errors",
    "LLMResponseError": "errors",
    "LLMTimeoutError": "errors",
    "LLMConfigError": "errors",
    "RetryPolicy": "retry",
    "OpenAIChat": "openai_client",
    "OpenAIEmbeddings": "openai_client",
    "LocalChat": "local",
    "LocalEmbeddings": "local",
    "APILLMServing_request": "serving",
    "LocalModelServing": "serving",
    "default_chat_model": "serving",
    "default_embedding_model": "serving",
}

__all__ = [  # noqa: RUF022 - grouped as in _EXPORTS
    "ChatModel",
    "EmbeddingModel",
    "SamplingParams",
    "run_sync",
    "ResponseCache",
    "default_cache_path",
    "UsageStats",
    "LLMError",
    "LLMUnavailableError",
    "LLMResponseError",
    "LLMTimeoutError",
    "LLMConfigError",
    "RetryPolicy",
    "OpenAIChat",
    "OpenAIEmbeddings",
    "LocalChat",
    "LocalEmbeddings",
    "APILLMServing_request",
    "LocalModelServing",
    "default_chat_model",
    "default_embedding_model",
]

__getattr__, __dir__ = lazy_exports(
    __name__, {name: f"sqlsynth.llm.{module}" for name, module in _EXPORTS.items()}
)
