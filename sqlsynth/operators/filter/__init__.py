"""Filters: drop rows whose SQL does not run, or does not answer its question; pick votes."""

from sqlsynth.operators.filter.correspondence import Text2SQLCorrespondenceFilter
from sqlsynth.operators.filter.cot_voting import Text2SQLCoTVotingGenerator
from sqlsynth.operators.filter.executability import SQLExecutabilityFilter
from sqlsynth.operators.filter.execution import SQLExecutionFilter
from sqlsynth.operators.filter.question_filter import Text2SQLQuestionFilter
from sqlsynth.operators.filter.roundtrip import Text2SQLRoundTripFilter

__all__ = [
    "SQLExecutabilityFilter",
    "SQLExecutionFilter",
    "Text2SQLCoTVotingGenerator",
    "Text2SQLCorrespondenceFilter",
    "Text2SQLQuestionFilter",
    "Text2SQLRoundTripFilter",
]
