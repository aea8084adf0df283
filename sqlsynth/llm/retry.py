"""How long to wait before trying a failed request again."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

RETRYABLE_STATUS = frozenset({408, 409, 425, 429})
FATAL_STATUS = frozenset({401, 403, 404})


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUS or status >= 500


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """The server's requested pause: ``retry-after-ms``, or ``retry-after`` (seconds or date)."""
    if not headers:
        return None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter; a server's Retry-After always wins (up to a cap).

    ``max_retries`` bounds retries of 429/5xx/malformed answers, ``timeout_retries`` those of
    timed-out requests and ``connect_retries`` quick retries when the server refuses
    connections before it ever answered (then the model is declared unavailable).
    """

    max_retries: int = 6
    # generous: a server that is slow for some requests (a slow-drip body cut at the deadline)
    # should not strand rows; one slow for all requests trips the outage gate instead
    timeout_retries: int = 4
    connect_retries: int = 2
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    connect_delay: float = 0.1

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Delay before retry number ``attempt`` (1-based)."""
        if retry_after is not None:
            wait = min(retry_after, self.max_retry_after)
            return wait + random.uniform(0.0, 0.1 * wait + 0.05)
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)

    def connect_backoff(self, attempt: int) -> float:
        return self.connect_delay * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)
