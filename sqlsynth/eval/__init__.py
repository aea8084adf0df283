"""EX / EM / hardness reports over gold and predicted SQL."""

from sqlsynth.eval.evaluate import ETYPES, aevaluate, evaluate
from sqlsynth.eval.io import EvalItem, InputFormatError, load_pairs
from sqlsynth.eval.report import LEVELS, EvalReport, ItemResult, LevelStats, render_report

__all__ = [
    "ETYPES",
    "LEVELS",
    "EvalItem",
    "EvalReport",
    "InputFormatError",
    "ItemResult",
    "LevelStats",
    "aevaluate",
    "evaluate",
    "load_pairs",
    "render_report",
]
