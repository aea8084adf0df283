"""Errors raised while reading pipeline input or step files."""

from __future__ import annotations

from sqlsynth.errors import InputFormatError

__all__ = ["InputFormatError"]
