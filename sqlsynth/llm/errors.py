"""Errors of the LLM layer.

Two kinds matter to callers: ``LLMUnavailableError`` means no request can succeed (server
unreachable, key rejected, model unknown, never answers), so the run must stop;
``LLMResponseError`` means this one request failed for the endpoint's reasons (5xx, 429,
timeouts, resets, empty answers, an outage longer than allowed). That is never a verdict on the
row it served: pipelines keep such rows waiting for a rerun (``sqlsynth.llm.failures``).
``LLMRequestRefusedError`` is the exception: the server refused this request itself (HTTP 400,
e.g. a prompt longer than the context window), which no rerun changes.
"""

from __future__ import annotations


class LLMError(RuntimeError):
    """Base class of every error raised by ``sqlsynth.llm``.

    Its message is redacted when the error is made: messages quote what endpoints answered,
    and become log lines, rejects-file reasons and the command line's last words, none of
    which may show the key an endpoint echoed.
    """

    def __init__(self, *args: object) -> None:
        from sqlsynth.redaction import redact_secrets

        super().__init__(*(redact_secrets(a) if isinstance(a, str) else a for a in args))


class LLMUnavailableError(LLMError):
    """The server cannot answer at all; raised once per model, then re-raised immediately."""


class LLMResponseError(LLMError):
    """A request kept failing (malformed body, server errors) after all retries."""


class LLMTimeoutError(LLMResponseError):
    """A request timed out on every allowed attempt."""


class LLMConfigError(LLMError, ValueError):
    """The client is misconfigured (for example no API key for a remote server)."""


class LLMNeverAnsweredError(LLMUnavailableError, LLMTimeoutError):
    """Requests kept timing out before the endpoint ever answered (accepts, never replies)."""


class LLMOutageError(LLMResponseError):
    """The endpoint has been failing for longer than the run's ``max_outage``."""


class LLMRequestRefusedError(LLMResponseError):
    """The server refused this request (HTTP 400 and the like): a verdict on the request."""
