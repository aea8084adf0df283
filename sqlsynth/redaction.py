"""Keep passwords and API keys out of every message and file, whatever echoes them.

Pattern rules (``key=...``, ``Bearer ...``, ``scheme://user:password@``) catch a secret only in
the shapes they know; an endpoint or proxy that quotes the key back in its own words ("key
abc+/= has no access", a URL-encoded request line) defeats them. So every secret the process
holds is registered where it is read (the API key when resolved, a database or base URL's
password when parsed) and :func:`redact_secrets` masks each registered value, and the forms
an echo gives it (URL-encoded, JSON-escaped, base64), wherever it appears.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from urllib.parse import quote, quote_plus

MASK = "***"
#: a secret this long is masked wherever it appears; a shorter one only as a whole token
#: (a short password masked inside every word would make messages unreadable, not safer)
_ANYWHERE = 8

_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s'\"]*:)[^\s'\"/]*@")
_KEY_LIKE = re.compile(r"(?i)(?P<head>(?:api[_-]?key|password|passwd|pwd|secret|token|"
                       r"authorization)[\"']?\s*[=:]\s*(?:bearer\s+|basic\s+)?[\"']?)"
                       r"[^\s\"'&,;)]+")
_BEARER = re.compile(r"(?i)(?P<head>\b(?:bearer|basic)\s+)[^\s\"',;)]{4,}")

_lock = threading.Lock()
_registered: dict[str, tuple[str, ...]] = {}


def _forms(secret: str) -> tuple[str, ...]:
    """``secret`` and the spellings an echo gives it, longest first."""
    raw = secret.encode("utf-8")
    forms = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1],
             base64.b64encode(raw).decode().rstrip("="),
             base64.urlsafe_b64encode(raw).decode().rstrip("=")}
    return tuple(sorted((f for f in forms if f), key=len, reverse=True))


def register_secret(value: str | None) -> None:
    """Mask ``value`` in every later :func:`redact_secrets` of this process."""
    if not value or not value.strip():
        return
    with _lock:
        if value not in _registered:
            _registered[value] = _forms(value)


def _mask(text: str, forms: tuple[str, ...], anywhere: bool) -> str:
    for form in forms:
        if anywhere:
            text = text.replace(form, MASK)
        else:
            text = re.sub(rf"(?<!\w){re.escape(form)}(?!\w)", MASK, text)
    return text


def redact_secrets(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with every registered secret, the given ``secrets``, URL passwords,
    ``key=...`` style values and bearer tokens masked as ``***``."""
    with _lock:
        known = {secret: (forms, len(secret) >= _ANYWHERE)
                 for secret, forms in _registered.items()}
    for secret in secrets:  # named by the caller for this text: masked wherever it is
        if secret and len(secret) >= 4:
            known[secret] = (_forms(secret), True)
    for secret in sorted(known, key=len, reverse=True):
        text = _mask(text, *known[secret])
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK + "@", text)
    text = _KEY_LIKE.sub(lambda m: m.group("head") + MASK, text)
    return _BEARER.sub(lambda m: m.group("head") + MASK, text)
