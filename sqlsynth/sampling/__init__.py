"""SQL sampled from a database's own schema graph and stored values (no LLM).

``sample_queries`` for plain callers; the ``SQLSampler`` operator
(``sqlsynth.operators.generate``) for pipelines.
"""

from sqlsynth.sampling.features import FEATURES, features_of, sql_features
from sqlsynth.sampling.mix import level_plan, normalize_mix, parse_hardness_mix
from sqlsynth.sampling.sampler import (
    QuerySampler,
    SampledQuery,
    asample_queries,
    sample_queries,
)

__all__ = [
    "FEATURES",
    "QuerySampler",
    "SampledQuery",
    "asample_queries",
    "features_of",
    "level_plan",
    "normalize_mix",
    "parse_hardness_mix",
    "sample_queries",
    "sql_features",
]
