"""When a predicted result counts as the gold's, under the EX conventions a reward can use.

Only conventions that judge two results (not SQL text or several databases) are offered:

* ``sqlsynth``: ``results_match`` (columns by position, rows as multisets, ordered when the
  gold orders its output) - what the pipelines use to verify rows;
* ``bird``: BIRD's EX, rows as *sets* (duplicates and order never count, column order does);
* ``test-suite``: test-suite-sql-eval's ``result_eq`` on one database: any column order,
  rows ordered only when the gold text says ``order by``.

Values are normalised as ``sqlsynth.db.compare`` does (1 == 1.0, bytes as text, dates as ISO
text) for every convention, so the engines' driver types do not decide a reward.
"""

from __future__ import annotations

import hashlib

from sqlsynth.db.compare import comparable, normalize_value, result_signature, results_match
from sqlsynth.db.result import ExecResult

REWARD_CONVENTIONS = ("sqlsynth", "bird", "test-suite")


def check_convention(convention: str) -> str:
    if convention not in REWARD_CONVENTIONS:
        raise ValueError(f"unknown reward convention {convention!r}; choose one of "
                         f"{', '.join(REWARD_CONVENTIONS)}")
    return convention


def _rows(res: ExecResult) -> list[tuple]:
    return [tuple(normalize_value(v) for v in row) for row in res.rows]


def same_answer(gold: ExecResult, pred: ExecResult, *, convention: str, ordered: bool,
                gold_says_order_by: bool) -> bool:
    """Whether ``pred`` answers like ``gold``; results cut at the row cap never match."""
    if not (comparable(gold) and comparable(pred)):
        return False
    if convention == "sqlsynth":
        return results_match(gold, pred, ordered=ordered)
    if convention == "bird":
        return set(_rows(pred)) == set(_rows(gold))
    from sqlsynth.eval.conventions.test_suite import results_equal

    return results_equal(_rows(gold), _rows(pred), ordered=gold_says_order_by)


def result_fingerprint(res: ExecResult, *, ordered: bool) -> str | None:
    """A short stable hash of a complete result (``result_signature``), None when it is not
    comparable: a trainer checks with it that its copy of a database gives the gold result the
    data was verified on."""
    signature = result_signature(res, ordered=ordered)
    if signature is None:
        return None
    return "sha256:" + hashlib.sha256(repr(signature).encode("utf-8")).hexdigest()[:32]


__all__ = ["REWARD_CONVENTIONS", "check_convention", "result_fingerprint", "same_answer"]
