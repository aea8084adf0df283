"""Where a client talks to and with which key: URL normalisation and key lookup."""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlsplit

from sqlsynth.llm.errors import LLMConfigError

BASE_URL_ENVS = ("SQLSYNTH_BASE_URL", "OPENAI_BASE_URL")
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
REFERENCE_KEY_ENV = "DF_API_KEY"
PLACEHOLDER_KEY = "EMPTY"

_ENDPOINT_SUFFIXES = {"/chat/completions": "chat", "/embeddings": "embeddings",
                      "/completions": "chat"}


def split_endpoint(api_url: str) -> tuple[str, str | None]:
    """``.../v1/chat/completions`` -> (``.../v1``, "chat"); a bare base URL -> (url, None)."""
    url = api_url.strip().rstrip("/")
    for suffix, kind in _ENDPOINT_SUFFIXES.items():
        if url.endswith(suffix):
            return url[: -len(suffix)], kind
    return url, None


def check_base_url(base_url: str) -> str:
    """``base_url`` when it can be an HTTP endpoint; else ``LLMConfigError`` (one line, exit 2).

    Checked before any request: an invalid port or a missing host would otherwise surface as
    an opaque error from deep inside the HTTP stack after every row had tried it. The message
    shows the URL without any password it may carry.
    """
    from sqlsynth.redaction import redact_secrets, register_secret

    url = str(base_url).strip()
    try:
        parts = urlsplit(url)
        register_secret(parts.password)
        port = parts.port  # raises ValueError for a port out of range or not a number
    except ValueError as exc:
        shown = redact_secrets(url)
        raise LLMConfigError(f"invalid base URL {shown!r}: bad port ({exc})") from None
    shown = redact_secrets(url)
    if parts.scheme not in ("http", "https"):
        raise LLMConfigError(f"invalid base URL {shown!r}: the scheme must be http:// or "
                             f"https://, e.g. http://localhost:8000/v1")
    if not parts.hostname:
        raise LLMConfigError(f"invalid base URL {shown!r}: no host name")
    if port == 0:
        raise LLMConfigError(f"invalid base URL {shown!r}: port 0 is not a port to connect to")
    return url


def configured_base_url(base_url: str | None = None) -> str | None:
    """The explicit base URL, else ``$SQLSYNTH_BASE_URL``, else ``$OPENAI_BASE_URL``."""
    if base_url:
        return base_url
    for name in BASE_URL_ENVS:
        value = os.environ.get(name)
        if value:
            return value
    return None


def is_loopback(base_url: str) -> bool:
    host = (urlsplit(base_url).hostname or "").strip("[]").lower()
    if host in ("localhost", "localhost.localdomain", "0.0.0.0"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_api_key(base_url: str, *, api_key: str | None = None,
                    key_env: str = DEFAULT_KEY_ENV) -> str:
    """The key to send: explicit, else ``$key_env``, else the other of OPENAI_API_KEY /
    DF_API_KEY, else a placeholder for a server on this machine (which needs none).

    A remote server without a key is a configuration error, reported before any request.
    """
    from sqlsynth.redaction import register_secret

    if api_key:
        register_secret(api_key)
        return api_key
    names = [key_env] + [n for n in (DEFAULT_KEY_ENV, REFERENCE_KEY_ENV) if n != key_env]
    for name in names:
        value = os.environ.get(name)
        if value:
            if value != PLACEHOLDER_KEY:
                register_secret(value)
            return value
    if is_loopback(base_url):
        return PLACEHOLDER_KEY
    raise LLMConfigError(
        f"no API key for {base_url}: set ${key_env} (or {' / '.join('$' + n for n in names[1:])}),"
        f" or pass api_key=...; a server without authentication accepts any value, e.g. "
        f"{key_env}={PLACEHOLDER_KEY}")
