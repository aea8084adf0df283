"""The content-aware Text-to-SQL engine: keywords, probing, encoding knowledge, revision."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlsynth._lazy import lazy_exports

_EXPORTS = {
    "ContentAwareEngine": "sqlsynth.engine.engine",
    "EngineAnswer": "sqlsynth.engine.trace",
    "Trace": "sqlsynth.engine.trace",
    "KnowledgeEntry": "sqlsynth.engine.knowledge",
    "KnowledgeTable": "sqlsynth.engine.knowledge",
    "import_knowledge": "sqlsynth.engine.knowledge",
    "ValueIndex": "sqlsynth.engine.value_index",
    "ValueMatch": "sqlsynth.engine.value_index",
    "ask_one": "sqlsynth.engine.batch",
    "ask_file": "sqlsynth.engine.batch",
    "aask_file": "sqlsynth.engine.batch",
}

__all__ = [
    "ContentAwareEngine", "EngineAnswer", "KnowledgeEntry", "KnowledgeTable", "Trace",
    "ValueIndex", "ValueMatch", "aask_file", "ask_file", "ask_one", "import_knowledge",
]

if TYPE_CHECKING:
    from sqlsynth.engine.batch import aask_file, ask_file, ask_one
    from sqlsynth.engine.engine import ContentAwareEngine
    from sqlsynth.engine.knowledge import KnowledgeEntry, KnowledgeTable, import_knowledge
    from sqlsynth.engine.trace import EngineAnswer, Trace
    from sqlsynth.engine.value_index import ValueIndex, ValueMatch

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
