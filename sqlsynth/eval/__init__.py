"""EX / EM / hardness reports over gold and predicted SQL, in sqlsynth's own convention or
reproducing an official benchmark script (``CONVENTIONS``)."""

from sqlsynth.eval.conventions import CONVENTIONS, Convention
from sqlsynth.eval.conventions.runner import ConventionOptions, evaluate_convention
from sqlsynth.eval.evaluate import ETYPES, aevaluate, evaluate
from sqlsynth.eval.io import EvalItem, InputFormatError, load_pairs
from sqlsynth.eval.report import LEVELS, EvalReport, ItemResult, LevelStats, render_report

__all__ = [
    "CONVENTIONS",
    "ETYPES",
    "LEVELS",
    "Convention",
    "ConventionOptions",
    "EvalItem",
    "EvalReport",
    "InputFormatError",
    "ItemResult",
    "LevelStats",
    "aevaluate",
    "evaluate",
    "evaluate_convention",
    "load_pairs",
    "render_report",
]
