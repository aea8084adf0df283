"""Pipelines: the reference's two Text-to-SQL pipelines and the streaming runner they use."""

from __future__ import annotations

from typing import Any

__all__ = ["Text2SQLGeneration_APIPipeline", "Text2SQLRefine_APIPipeline"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from sqlsynth.pipelines import text2sql

        return getattr(text2sql, name)
    raise AttributeError(name)
