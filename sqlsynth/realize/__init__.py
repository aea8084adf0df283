"""SQL to English without a model: canonical questions and step-by-step reasoning.

``canonical_question`` reads a question (and evidence) off the query's sqlglot tree;
``canonical_reasoning`` writes the chain of thought that ends in the query. Both are
deterministic and take microseconds to milliseconds, so the no-key path has a question and a
reasoning field for every query it can word faithfully (``NotRealizable`` for the rest).
"""

from sqlsynth.realize.errors import NotRealizable
from sqlsynth.realize.question import CanonicalQuestion, canonical_question
from sqlsynth.realize.reasoning import canonical_reasoning

__all__ = ["CanonicalQuestion", "NotRealizable", "canonical_question", "canonical_reasoning"]
