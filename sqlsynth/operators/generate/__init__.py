"""The generation operators: SQL (by a model or sampled), variations, questions, prompts, CoT,
and the model-free canonical question and reasoning."""

from sqlsynth.operators.generate.canonical import CanonicalCoTGenerator, CanonicalQuestionGenerator
from sqlsynth.operators.generate.cot_generator import Text2SQLCoTGenerator
from sqlsynth.operators.generate.mixed_sql_source import MixedSQLSource
from sqlsynth.operators.generate.prompt_generator import Text2SQLPromptGenerator
from sqlsynth.operators.generate.question_generator import Text2SQLQuestionGenerator
from sqlsynth.operators.generate.question_paraphraser import Text2SQLQuestionParaphraser
from sqlsynth.operators.generate.sampled_variation_generator import SampledVariationGenerator
from sqlsynth.operators.generate.sql_generator import SQLGenerator
from sqlsynth.operators.generate.sql_sampler import SQLSampler
from sqlsynth.operators.generate.sql_variation_generator import SQLVariationGenerator

__all__ = [
    "CanonicalCoTGenerator",
    "CanonicalQuestionGenerator",
    "MixedSQLSource",
    "SQLGenerator",
    "SQLSampler",
    "SQLVariationGenerator",
    "SampledVariationGenerator",
    "Text2SQLCoTGenerator",
    "Text2SQLPromptGenerator",
    "Text2SQLQuestionGenerator",
    "Text2SQLQuestionParaphraser",
]
