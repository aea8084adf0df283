"""Evaluation conventions: each reproduces one official benchmark script verdict for verdict.

``sqlsynth`` is the toolkit's own semantics (what the pipelines use internally); the others
follow the scripts named in ``CONVENTIONS`` (see the README's side-by-side table).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Convention:
    name: str
    follows: str
    summary: str
    group_by: str = "hardness"


CONVENTIONS: dict[str, Convention] = {c.name: c for c in (
    Convention("sqlsynth", "sqlsynth's own semantics (used by the pipelines)",
               "EX: columns by position, rows as multisets (ordered when the gold orders), "
               "any engine; EM on sqlglot trees (reads any SQL sqlglot parses)"),
    Convention("spider", "taoyds/spider evaluation.py + process_sql.py (commit b7b5b8c, "
               "2024-05-29)",
               "EM and EX of Spider's evaluation.py: its parser's failures score no match; EX "
               "keys columns by SELECT item and always compares row order"),
    Convention("test-suite", "taoyds/test-suite-sql-eval evaluation.py + exec_eval.py "
               "(commit e97acc5, 2022-08-02)",
               "EX of exec_eval: any column order, DISTINCT removed, rows ordered only under "
               "ORDER BY, on every database of the folder (the test suite)"),
    Convention("bird", "bird-bench/mini_dev evaluation/evaluation_ex.py, evaluation_ves.py, "
               "evaluation_f1.py (commit 4d970a9, 2025-09-19)",
               "EX with rows as sets, R-VES, Soft-F1; by BIRD difficulty", "difficulty"),
    Convention("spider2", "xlang-ai/Spider2 spider2-lite/evaluation_suite/evaluate.py "
               "compare_pandas_table (commit e12c5f1, 2025-11-07)",
               "result tables: every gold (condition) column equals some predicted column, "
               "numbers within 0.01, optional ignore-order; gold results as CSV", "difficulty"),
)}

__all__ = ["CONVENTIONS", "Convention"]
