"""SQL sampled from a database's own schema graph and stored values, with canonical texts.

The no-key path of synthesis: no model writes the SQL; the schema's foreign keys give the
joins, the stored values give the filters, and Spider's hardness grader steers the mix.
"""

from sqlsynth.sampling.builder import Built, Plan, QueryBuilder
from sqlsynth.sampling.features import FEATURES, features_of, sql_features
from sqlsynth.sampling.graph import ColumnRef, Edge, SchemaGraph
from sqlsynth.sampling.sampler import (
    DatabaseSampler,
    SampledQuery,
    draw_plan,
    level_schedule,
    sample_queries,
)
from sqlsynth.sampling.values import StoredValues

__all__ = [
    "FEATURES", "Built", "ColumnRef", "DatabaseSampler", "Edge", "Plan", "QueryBuilder",
    "SampledQuery", "SchemaGraph", "StoredValues", "draw_plan", "features_of", "level_schedule",
    "sample_queries", "sql_features",
]
