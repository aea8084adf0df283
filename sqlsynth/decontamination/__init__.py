"""Decontamination against the public benchmarks users report on (Spider, BIRD, ...): which
rows overlap a benchmark item by question, SQL or schema, flagged or dropped."""

from sqlsynth.decontamination.benchmark import Benchmark, BenchmarkItem, load_benchmark
from sqlsynth.decontamination.matcher import (
    CONTAMINATION,
    MODES,
    DecontaminationOptions,
    Decontaminator,
    decontaminate,
    schema_reader,
)
from sqlsynth.decontamination.questions import QuestionIndex, question_tokens

__all__ = ["CONTAMINATION", "MODES", "Benchmark", "BenchmarkItem", "DecontaminationOptions",
           "Decontaminator", "QuestionIndex", "decontaminate", "load_benchmark",
           "question_tokens", "schema_reader"]
