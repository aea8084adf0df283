"""``Text2SQLCoTVotingGenerator``: choose one reasoning answer by execution agreement."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, ClassVar

from sqlsynth.db.compare import comparable, query_orders_output, result_signature
from sqlsynth.db.result import ExecResult
from sqlsynth.operators.base import Operator, Reject, Row, RowOutcome, StepContext
from sqlsynth.operators.filter._common import clip, dialect_of, unknown_db
from sqlsynth.sql import extract_sql


class Text2SQLCoTVotingGenerator(Operator):
    """Reads ``cot_responses`` (a list of answers) and ``db_id``; writes ``cot_reasoning`` and
    ``SQL``, and drops ``cot_responses`` from the row.

    Each answer's final SQL block is executed (identical SQL once, all in one batch). Answers
    whose SQL runs to a complete result are grouped by execution result (``result_signature``, ordered when the
    query orders its output, i.e. the semantics of ``results_match``). The largest group wins;
    ties go to the group holding the earliest answer, and within the group the earliest
    answer is chosen. ``SQL`` is replaced by the chosen answer's SQL, so the reasoning and the
    query always agree and the query is known to run.

    Rows with fewer than ``min_valid_candidates`` answers whose SQL runs and returns a complete
    result (one cut at the row cap cannot be compared, see ``comparable``) are rejected as
    ``too_few_valid_candidates``; there is no unverified fallback.
    """

    default_keys: ClassVar[dict[str, str]] = {
        "input_cot_responses_key": "cot_responses",
        "input_db_id_key": "db_id",
        "output_cot_key": "cot_reasoning",
        "output_sql_key": "SQL",
    }

    def __init__(self, database_manager: Any, *, min_valid_candidates: int = 1) -> None:
        super().__init__()
        if min_valid_candidates < 1:
            raise ValueError(f"min_valid_candidates must be >= 1, got {min_valid_candidates}")
        self.database_manager = database_manager
        self.min_valid_candidates = int(min_valid_candidates)

    def required_input_keys(self) -> list[str]:
        return [self.keys["input_cot_responses_key"], self.keys["input_db_id_key"]]

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        responses_key = self.keys["input_cot_responses_key"]
        responses = row.get(responses_key)
        if not isinstance(responses, list):
            return Reject("bad_cot_responses",
                          f"field {responses_key!r} must be a list, got {type(responses).__name__}")
        db_id = str(row[self.keys["input_db_id_key"]])
        rejected = unknown_db(self.database_manager, db_id)
        if rejected is not None:
            return rejected

        candidates = [extract_sql(r) if isinstance(r, str) else None for r in responses]
        unique = list(dict.fromkeys(sql for sql in candidates if sql))
        results = await self.database_manager.aexecute_many([(db_id, sql) for sql in unique])
        by_sql: dict[str, ExecResult] = dict(zip(unique, results))

        chosen = choose_by_vote(candidates, by_sql, dialect_of(self.database_manager))
        valid = sum(1 for sql in candidates if sql and comparable(by_sql[sql]))
        if chosen is None or valid < self.min_valid_candidates:
            errors = sorted({r.status.value if not r.ok else "truncated"
                             for r in results if not comparable(r)})
            return Reject(
                "too_few_valid_candidates",
                clip(f"{valid} of {len(responses)} answers have SQL that runs "
                     f"(need {self.min_valid_candidates}); failures: {', '.join(errors) or '-'}"),
            )
        out = {k: v for k, v in row.items() if k != responses_key}
        canonical = getattr(self.database_manager, "canonical_sql", None)
        chosen_sql = candidates[chosen]
        # stored as executed: the guard's rendering (same syntax tree as the reasoning's SQL)
        out[self.keys["output_sql_key"]] = (canonical(chosen_sql) if callable(canonical)
                                            else None) or chosen_sql
        out[self.keys["output_cot_key"]] = responses[chosen]
        return [out]


def choose_by_vote(
    candidates: list[str | None], results: dict[str, ExecResult], dialect: str
) -> int | None:
    """Index of the chosen candidate, or None when no candidate's SQL ran.

    Deterministic: biggest group of equal results; a tie goes to the group whose first member
    comes first; the group's first member is chosen.
    """
    groups: dict[Hashable, list[int]] = {}
    for i, sql in enumerate(candidates):
        if not sql or not comparable(results[sql]):
            continue  # failed, or cut at the row cap: its answer cannot be compared
        key = result_signature(results[sql], ordered=query_orders_output(sql, dialect))
        groups.setdefault(key, []).append(i)
    if not groups:
        return None
    best = min(groups.values(), key=lambda members: (-len(members), members[0]))
    return best[0]
