"""Redaction: every secret the process holds is masked in every shape an echo gives it."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

from sqlsynth.redaction import redact_secrets, register_secret


def shapes(secret: str) -> list[str]:
    """The spellings of ``secret`` an endpoint or proxy echoes."""
    return [secret, quote(secret, safe=""), json.dumps(secret)[1:-1],
            base64.b64encode(secret.encode()).decode().rstrip("=")]


def test_a_registered_key_is_masked_in_every_echoed_shape() -> None:
    key = "sk-Zq9+/x=ab!c\\d\"e"
    register_secret(key)
    for shape in shapes(key):
        text = f"proxy says: your key {shape} has no access"
        shown = redact_secrets(text)
        assert shape not in shown and "has no access" in shown


def test_a_short_password_is_masked_as_a_token_but_not_inside_words() -> None:
    register_secret("pw12")
    shown = redact_secrets("login pw12 refused for mysql://u:pw12@h; spw12x stays")
    assert "pw12 " not in shown and ":pw12@" not in shown and "spw12x" in shown


def test_pattern_rules_catch_unregistered_secrets() -> None:
    shown = redact_secrets("Authorization: Bearer abc+/def= api_key=zzz9 "
                           "postgresql://u:p4ss@host/db")
    for leaked in ("abc+/def=", "zzz9", "p4ss"):
        assert leaked not in shown


def test_text_without_secrets_is_unchanged() -> None:
    text = "chat: qwen at http://127.0.0.1:8000/v1 (answered)"
    assert redact_secrets(text) == text
