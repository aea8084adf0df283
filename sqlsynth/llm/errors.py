"""Errors of the LLM layer.

Two kinds matter to callers: ``LLMUnavailableError`` means no request can succeed (server
unreachable, key rejected, model unknown), so the run must stop; any other ``LLMError`` means
this one request failed and the row it served can be rejected with a reason.
"""

from __future__ import annotations


class LLMError(RuntimeError):
    """Base class of every error raised by ``sqlsynth.llm``."""


class LLMUnavailableError(LLMError):
    """The server cannot answer at all; raised once per model, then re-raised immediately."""


class LLMResponseError(LLMError):
    """A request kept failing (malformed body, server errors) after all retries."""


class LLMTimeoutError(LLMResponseError):
    """A request timed out on every allowed attempt."""


class LLMConfigError(LLMError, ValueError):
    """The client is misconfigured (for example no API key for a remote server)."""
