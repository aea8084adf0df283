"""Pure SQL helpers on sqlglot: answer extraction, templates, Spider hardness and exact match."""

from sqlsynth.sql.exact_match import PARTIAL_COMPONENTS, exact_set_match, partial_match_scores
from sqlsynth.sql.extract import extract_sql
from sqlsynth.sql.hardness import (
    HARDNESS_LEVELS,
    ComponentCounts,
    component_counts,
    difficulty_score,
    spider_hardness,
)
from sqlsynth.sql.parse import SQLParseError, parse_single
from sqlsynth.sql.spider import SpiderQuery, build_query
from sqlsynth.sql.statement import classify_statement
from sqlsynth.sql.template import sql_meaning_key, sql_template

__all__ = [
    "HARDNESS_LEVELS",
    "PARTIAL_COMPONENTS",
    "ComponentCounts",
    "SQLParseError",
    "SpiderQuery",
    "build_query",
    "classify_statement",
    "component_counts",
    "difficulty_score",
    "exact_set_match",
    "extract_sql",
    "parse_single",
    "partial_match_scores",
    "spider_hardness",
    "sql_meaning_key",
    "sql_template",
]
