"""Evaluators: label each row's difficulty by its SQL's components and by solver success."""

from sqlsynth.operators.eval.component_classifier import SQLComponentClassifier
from sqlsynth.operators.eval.execution_classifier import GOLD_ERROR, SQLExecutionClassifier
from sqlsynth.operators.eval.solvers import PromptSolver, SharedSolver, Solver
from sqlsynth.operators.eval.unmeasured_difficulty import ExecutionDifficultyNotMeasured

__all__ = ["GOLD_ERROR", "ExecutionDifficultyNotMeasured", "PromptSolver", "SQLComponentClassifier", "SQLExecutionClassifier",
           "SharedSolver", "Solver"]
