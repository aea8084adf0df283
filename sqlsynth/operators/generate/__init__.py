"""The five generation operators: SQL, SQL variations, questions, training prompts, CoT."""

from sqlsynth.operators.generate.cot_generator import Text2SQLCoTGenerator
from sqlsynth.operators.generate.mixed_sql_source import MixedSQLSource
from sqlsynth.operators.generate.prompt_generator import Text2SQLPromptGenerator
from sqlsynth.operators.generate.question_generator import Text2SQLQuestionGenerator
from sqlsynth.operators.generate.question_paraphraser import Text2SQLQuestionParaphraser
from sqlsynth.operators.generate.sampled_variation_generator import SampledVariationGenerator
from sqlsynth.operators.generate.sql_generator import SQLGenerator
from sqlsynth.operators.generate.sql_variation_generator import SQLVariationGenerator

__all__ = [
    "MixedSQLSource",
    "SQLGenerator",
    "SampledVariationGenerator",
    "SQLVariationGenerator",
    "Text2SQLCoTGenerator",
    "Text2SQLPromptGenerator",
    "Text2SQLQuestionGenerator",
    "Text2SQLQuestionParaphraser",
]
