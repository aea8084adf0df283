"""Prompt template classes, one module per prompt family (plain text, our own wording).

Names are imported on first use so importing one family does not import the others.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlsynth.prompts.correspondence import Text2SQLCorrespondenceFilterPrompt
    from sqlsynth.prompts.cot_generation import Text2SQLCotGeneratorPrompt
    from sqlsynth.prompts.question_generation import Text2SQLQuestionGeneratorPrompt
    from sqlsynth.prompts.sql_generation import SelectSQLGeneratorPrompt
    from sqlsynth.prompts.sql_variation import SQLVariationGeneratorPrompt
    from sqlsynth.prompts.text2sql_prompt import Text2SQLPromptGeneratorPrompt

_EXPORTS: dict[str, str] = {
    "SelectSQLGeneratorPrompt": "sqlsynth.prompts.sql_generation",
    "SQLVariationGeneratorPrompt": "sqlsynth.prompts.sql_variation",
    "Text2SQLQuestionGeneratorPrompt": "sqlsynth.prompts.question_generation",
    "Text2SQLPromptGeneratorPrompt": "sqlsynth.prompts.text2sql_prompt",
    "Text2SQLCotGeneratorPrompt": "sqlsynth.prompts.cot_generation",
    "Text2SQLCorrespondenceFilterPrompt": "sqlsynth.prompts.correspondence",
}

__all__ = [
    "SQLVariationGeneratorPrompt",
    "SelectSQLGeneratorPrompt",
    "Text2SQLCorrespondenceFilterPrompt",
    "Text2SQLCotGeneratorPrompt",
    "Text2SQLPromptGeneratorPrompt",
    "Text2SQLQuestionGeneratorPrompt",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sqlsynth.prompts' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
