"""Score one completion: its final SQL, run in the sandbox, against the gold result.

The score is ``(1 - format_weight) * execution + format_weight * format``: ``execution`` is 1
when the completion's SQL returns the gold's result under the chosen convention
(``sqlsynth.reward.matching``), else 0; ``format`` is 1 when the completion reasons first and
ends in a fenced ```sql block (what the training prompt asks for). A reward call never raises
on what a model wrote: a refused, failing, slow or huge statement scores 0 with its reason.

Gold results are cached per (db_id, gold SQL) in the scorer (bounded, LRU), and predictions in
the manager's result cache, so the gold runs once per process and a repeated completion costs a
dictionary lookup.
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlsynth.db import DatabaseManager
from sqlsynth.db.compare import comparable, query_orders_output
from sqlsynth.db.result import ExecResult
from sqlsynth.reward.managers import shared_manager
from sqlsynth.reward.matching import check_convention, result_fingerprint, same_answer
from sqlsynth.sql.extract import extract_sql

Completion = str | Sequence[Mapping[str, Any]]

_SQL_FENCE = re.compile(r"```\s*sql\b", re.IGNORECASE)


@dataclass(frozen=True)
class RewardResult:
    """A score and why: ``reason`` is ``match``, ``wrong_result``, ``no_sql``, the execution
    status of a failing prediction (``syntax_error``, ``forbidden``, ``timeout``,
    ``too_large``, ...), ``truncated``, or ``gold_<status>`` / ``gold_fingerprint_mismatch``
    when the gold itself cannot be compared here."""

    score: float
    execution: float
    format: float
    reason: str
    sql: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class _Gold:
    result: ExecResult
    ordered: bool
    says_order_by: bool
    fingerprint: str | None


def completion_text(completion: Completion | None) -> str:
    """The text to score: a string as it is, or the last assistant message of a conversation
    (TRL passes conversational completions as lists of messages)."""
    if completion is None:
        return ""
    if isinstance(completion, str):
        return completion
    for message in reversed(list(completion)):
        if isinstance(message, Mapping) and message.get("role", "assistant") == "assistant":
            content = message.get("content")
            return content if isinstance(content, str) else ""
    return ""


def format_score(text: str) -> float:
    """1.0 when there is reasoning before a fenced ```sql block holding the final SQL."""
    match = _SQL_FENCE.search(text)
    if match is None or extract_sql(text) is None:
        return 0.0
    return 1.0 if text[:match.start()].strip() else 0.0


class ExecutionReward:
    """The execution reward over one database root (a SQLite folder/file or a server URL), or
    over a ``DatabaseManager`` the caller owns.

    Given a path or URL, the manager is this process's shared one (``shared_manager``), so many
    scorers in one process, and many calls, reuse one set of connections and worker processes;
    ``limits`` are ``DatabaseManager`` keyword arguments (``timeout``, ``max_rows``,
    ``max_result_bytes``, ...). Thread-safe.
    """

    def __init__(self, db: str | os.PathLike[str] | DatabaseManager, *,
                 convention: str = "sqlsynth", format_weight: float = 0.0,
                 gold_cache_size: int = 65_536, **limits: Any) -> None:
        if not 0.0 <= format_weight <= 1.0:
            raise ValueError(f"format_weight must be in [0, 1], got {format_weight}")
        self.convention = check_convention(convention)
        self.format_weight = float(format_weight)
        self.manager = db if isinstance(db, DatabaseManager) else shared_manager(db, **limits)
        self._gold: OrderedDict[tuple[str, str], _Gold] = OrderedDict()
        self._gold_cache_size = int(gold_cache_size)
        self._lock = threading.Lock()

    def gold(self, db_id: str, gold_sql: str) -> _Gold:
        """The gold's result (cached when it is complete: a failure is asked again)."""
        key = (db_id, gold_sql)
        with self._lock:
            hit = self._gold.get(key)
            if hit is not None:
                self._gold.move_to_end(key)
                return hit
        result = self.manager.execute(db_id, gold_sql)
        ordered = query_orders_output(gold_sql, self.manager.dialect)
        gold = _Gold(result, ordered, "order by" in gold_sql.lower(),
                     result_fingerprint(result, ordered=ordered))
        if comparable(result):
            with self._lock:
                self._gold[key] = gold
                while len(self._gold) > self._gold_cache_size:
                    self._gold.popitem(last=False)
        return gold

    def score(self, completion: Completion | None, db_id: str, gold_sql: str, *,
              gold_fingerprint: str | None = None) -> RewardResult:
        """Score one completion; ``gold_fingerprint`` (the RL export's) is checked against the
        gold result here, so a trainer's database that differs from the one the data was made
        on scores ``gold_fingerprint_mismatch`` instead of rewarding the wrong answers."""
        text = completion_text(completion)
        fmt = format_score(text) if self.format_weight else 0.0
        try:
            execution, reason, sql, detail = self._execution(text, db_id, gold_sql,
                                                             gold_fingerprint)
        except Exception as exc:  # noqa: BLE001 - a reward call never raises on model output
            execution, reason, sql, detail = 0.0, "error", None, f"{type(exc).__name__}: {exc}"
        total = (1.0 - self.format_weight) * execution + self.format_weight * fmt
        return RewardResult(total, execution, fmt, reason, sql, detail)

    def _execution(self, text: str, db_id: str, gold_sql: str, fingerprint: str | None
                   ) -> tuple[float, str, str | None, str | None]:
        gold = self.gold(db_id, gold_sql)
        if not comparable(gold.result):
            status = "truncated" if gold.result.ok else gold.result.status.value
            return 0.0, f"gold_{status}", None, gold.result.error
        if fingerprint and gold.fingerprint != fingerprint:
            return 0.0, "gold_fingerprint_mismatch", None, (
                f"the gold SQL gives {gold.fingerprint} on this database, the data was made "
                f"where it gave {fingerprint}")
        sql = extract_sql(text)
        if sql is None:
            return 0.0, "no_sql", None, "no fenced SQL block in the completion"
        pred = self.manager.execute(db_id, sql)
        if not pred.ok:
            return 0.0, pred.status.value, sql, pred.error
        if pred.truncated:
            return 0.0, "truncated", sql, "the result is cut at the row cap"
        if same_answer(gold.result, pred, convention=self.convention, ordered=gold.ordered,
                       gold_says_order_by=gold.says_order_by):
            return 1.0, "match", sql, None
        return 0.0, "wrong_result", sql, None

    def __call__(self, completion: Completion | None, db_id: str, gold_sql: str, *,
                 gold_fingerprint: str | None = None) -> float:
        return self.score(completion, db_id, gold_sql, gold_fingerprint=gold_fingerprint).score


_SCORERS: dict[tuple, ExecutionReward] = {}
_SCORERS_LOCK = threading.Lock()


def scorer_for(db: str | os.PathLike[str], *, convention: str = "sqlsynth",
               format_weight: float = 0.0, **limits: Any) -> ExecutionReward:
    """This process's scorer for ``db`` and settings (its gold cache lives across calls)."""
    key = (os.fspath(db), convention, float(format_weight), tuple(sorted(limits.items())),
           os.getpid())
    with _SCORERS_LOCK:
        scorer = _SCORERS.get(key)
        if scorer is None:
            scorer = ExecutionReward(db, convention=convention, format_weight=format_weight,
                                     **limits)
            _SCORERS[key] = scorer
        return scorer


def execution_reward(completion: Completion | None, db: str | os.PathLike[str], db_id: str,
                     gold_sql: str, *, convention: str = "sqlsynth", format_weight: float = 0.0,
                     gold_fingerprint: str | None = None, **limits: Any) -> float:
    """The score of one completion (see ``ExecutionReward``), with this process's scorer."""
    scorer = scorer_for(db, convention=convention, format_weight=format_weight, **limits)
    return scorer(completion, db_id, gold_sql, gold_fingerprint=gold_fingerprint)


__all__ = ["ExecutionReward", "RewardResult", "completion_text", "execution_reward",
           "format_score", "scorer_for"]
