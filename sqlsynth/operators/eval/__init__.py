"""Evaluators: label each row's difficulty by its SQL's components and by solver success."""

from sqlsynth.operators.eval.component_classifier import SQLComponentClassifier
from sqlsynth.operators.eval.execution_classifier import GOLD_ERROR, SQLExecutionClassifier
from sqlsynth.operators.eval.solvers import PromptSolver, SharedSolver, Solver

__all__ = ["GOLD_ERROR", "PromptSolver", "SQLComponentClassifier", "SQLExecutionClassifier",
           "SharedSolver", "Solver"]
