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


def schema_and_question(*, engine: str, schema: str, question: str, evidence: str = "") -> str:
    """The head shared by prompts that pose a question on a database: schema, evidence,
    question, each followed by a blank line."""
    return (
        f"Database ({engine}) schema with example values:\n{schema.strip()}\n\n"
        + optional_block("External knowledge", evidence)
        + f"Question:\n{question.strip()}\n\n"
    )
