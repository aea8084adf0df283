"""Filters: drop rows whose SQL does not run, or does not answer its question; pick votes."""

from sqlsynth.operators.filter.correspondence import Text2SQLCorrespondenceFilter
from sqlsynth.operators.filter.cot_voting import Text2SQLCoTVotingGenerator
from sqlsynth.operators.filter.executability import SQLExecutabilityFilter
from sqlsynth.operators.filter.execution import SQLExecutionFilter

__all__ = [
    "SQLExecutabilityFilter",
    "SQLExecutionFilter",
    "Text2SQLCoTVotingGenerator",
    "Text2SQLCorrespondenceFilter",
]
