"""Mapping a score to a difficulty label through ascending thresholds."""

from __future__ import annotations

import itertools
from collections.abc import Sequence


def check_thresholds(thresholds: Sequence[float], labels: Sequence[str]) -> None:
    if len(labels) != len(thresholds) + 1:
        raise ValueError(
            f"need one more label than thresholds: {len(thresholds)} thresholds "
            f"{list(thresholds)} but {len(labels)} labels {list(labels)}"
        )
    if any(b < a for a, b in itertools.pairwise(thresholds)):
        raise ValueError(f"difficulty_thresholds must be ascending, got {list(thresholds)}")


def label_for(score: float, thresholds: Sequence[float], labels: Sequence[str]) -> str:
    """``labels[i]`` for the first threshold with ``score <= thresholds[i]``, else the last."""
    for threshold, label in zip(thresholds, labels):
        if score <= threshold:
            return label
    return labels[-1]
