"""Estimated LLM cost from token counts and a small, editable price table.

Prices are US dollars per million tokens (input, output), as the providers listed them in 2025;
they change, so a TOML or JSON file (``--prices`` or ``SQLSYNTH_PRICES``) of
``{model = {input = .., output = ..}}`` overrides or extends the table. A model not in the
table (a local model, a self-hosted endpoint) is shown with its tokens only, never a guess.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PRICES_ENV = "SQLSYNTH_PRICES"

#: USD per 1M tokens: (input, output). Embedding models bill input only.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
    "text-embedding-3-small": (0.02, 0.0),
    "text-embedding-3-large": (0.13, 0.0),
    "deepseek-chat": (0.27, 1.10),
}


@dataclass(frozen=True)
class CostLine:
    model: str
    prompt_tokens: int
    completion_tokens: int
    requests: int
    cache_hits: int
    usd: float | None
    """None when the model has no price in the table."""


def load_prices(path: str | os.PathLike[str] | None = None) -> dict[str, tuple[float, float]]:
    """The default table, updated from ``path`` (or ``$SQLSYNTH_PRICES``) when given."""
    prices = dict(DEFAULT_PRICES)
    source = path or os.environ.get(PRICES_ENV)
    if not source:
        return prices
    file = Path(source)
    text = file.read_text(encoding="utf-8")
    try:
        if file.suffix == ".json":
            data: Any = json.loads(text)
        else:
            import sys

            if sys.version_info >= (3, 11):
                import tomllib
            else:  # pragma: no cover
                import tomli as tomllib
            data = tomllib.loads(text)
    except ValueError as exc:
        raise ValueError(f"{file}: not a valid price table ({exc})") from None
    if not isinstance(data, dict):
        # a ValueError: the command line reports it as bad input, with the file's name
        raise ValueError(f"{file}: expected a table of model = {{input, output}}")  # noqa: TRY004
    for model, entry in data.items():
        if not isinstance(entry, dict) or "input" not in entry:
            raise ValueError(f"{file}: model {model!r}: expected {{input = .., output = ..}}")
        try:
            prices[str(model)] = (float(entry["input"]), float(entry.get("output", 0.0)))
        except (TypeError, ValueError):
            raise ValueError(f"{file}: model {model!r}: prices must be numbers") from None
    return prices


def price_for(model: str, prices: dict[str, tuple[float, float]]) -> tuple[float, float] | None:
    """The exact name, else the name without a provider prefix (``openai/gpt-4o-mini``)."""
    if model in prices:
        return prices[model]
    tail = model.rsplit("/", 1)[-1]
    return prices.get(tail)


def cost_lines(usage: dict[str, dict[str, int]], prices: dict[str, tuple[float, float]]
               ) -> list[CostLine]:
    lines = []
    for model, counts in sorted(usage.items()):
        prompt = int(counts.get("prompt_tokens", 0))
        completion = int(counts.get("completion_tokens", 0))
        price = price_for(model, prices)
        usd = None if price is None else (prompt * price[0] + completion * price[1]) / 1e6
        lines.append(CostLine(model, prompt, completion, int(counts.get("requests", 0)),
                              int(counts.get("cache_hits", 0)), usd))
    return lines


def total_usd(lines: list[CostLine]) -> float | None:
    """The sum over priced models; None when no model has a price."""
    priced = [line.usd for line in lines if line.usd is not None]
    return sum(priced) if priced else None
