"""What every prompt template shares: turning a template's text into chat messages.

A template is any object with a ``build_prompt(**fields) -> str`` method returning the user
message, and optionally a ``system_prompt`` string. Users may pass their own object with the
same ``build_prompt`` signature; nothing here requires subclassing.
"""

from __future__ import annotations

from typing import Any


def chat_messages(template: Any, user_text: str) -> list[dict[str, str]]:
    """System + user messages; the system message is left out when the template has none."""
    system = getattr(template, "system_prompt", "") or ""
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": user_text})
    return messages


def optional_block(title: str, body: str) -> str:
    """``title:\\nbody`` followed by a blank line, or nothing when ``body`` is empty."""
    body = body.strip()
    return f"{title}:\n{body}\n\n" if body else ""
