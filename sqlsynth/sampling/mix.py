"""A requested mix over Spider hardness levels, and its exact split over a number of slots."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping

from sqlsynth.sql.hardness import HARDNESS_LEVELS


def normalize_mix(mix: Mapping[str, float] | None) -> dict[str, float]:
    """Weights per level summing to 1; None or {} = even. Unknown levels are an error."""
    if not mix:
        return {level: 1 / len(HARDNESS_LEVELS) for level in HARDNESS_LEVELS}
    unknown = sorted(set(mix) - set(HARDNESS_LEVELS))
    if unknown:
        raise ValueError(f"hardness_mix: unknown level(s) {unknown}; "
                         f"levels are {list(HARDNESS_LEVELS)}")
    if any(float(w) < 0 for w in mix.values()) or sum(float(w) for w in mix.values()) <= 0:
        raise ValueError(f"hardness_mix: weights must be >= 0 with a positive sum, got {mix}")
    total = sum(float(w) for w in mix.values())
    return {level: float(mix.get(level, 0)) / total for level in HARDNESS_LEVELS}


def parse_hardness_mix(items: Iterable[str]) -> dict[str, float]:
    """``["easy=1", "extra=2"]`` (the config's form) -> ``{"easy": 1.0, "extra": 2.0}``."""
    out: dict[str, float] = {}
    for item in items:
        level, sep, weight = item.partition("=")
        try:
            value = float(weight) if sep else math.nan
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise ValueError(f"hardness_mix: expected level=weight, got {item!r}")
        out[level.strip()] = value
    normalize_mix(out)
    return out


def level_plan(num: int, mix: Mapping[str, float] | None, rng: random.Random) -> list[str]:
    """``num`` levels whose counts follow ``mix`` as closely as whole numbers allow (largest
    remainders), in an order drawn from ``rng``: the mix is met by construction, not by luck."""
    weights = normalize_mix(mix)
    exact = {level: weights[level] * num for level in HARDNESS_LEVELS}
    counts = {level: int(exact[level]) for level in HARDNESS_LEVELS}
    ties = {level: rng.random() for level in HARDNESS_LEVELS}  # equal remainders: by lot
    by_remainder = sorted(HARDNESS_LEVELS, key=lambda lv: (-(exact[lv] - counts[lv]), ties[lv]))
    for level in by_remainder[: num - sum(counts.values())]:
        counts[level] += 1
    plan = [level for level in HARDNESS_LEVELS for _ in range(counts[level])]
    rng.shuffle(plan)
    return plan
