"""BIRD's execution accuracy, R-VES and Soft-F1, as the BIRD Mini-Dev scripts define them.

bird-bench/mini_dev ``evaluation/`` (evaluation_ex.py, evaluation_ves.py, evaluation_f1.py):
* **EX**: the prediction runs, then the gold, on the same connection; the answer is right when
  the two results are equal as *sets* of rows (duplicates and row order never count, column
  order does). Any error, and running past the time limit (``meta_time_out``, 30 s by default,
  for the two statements together), scores 0.
* **R-VES**: only for a right answer, both statements are timed ``iterate_num`` times (100 by
  default; each run opens a fresh connection); the gold/pred time ratios outside mean +- 3
  standard deviations are dropped and the rest averaged; the reward is 1.25 for a ratio >= 2,
  1 for [1, 2), 0.75 for [0.5, 1), 0.5 for [0.25, 0.5), 0.25 below, 0 for a wrong answer or a
  zero ratio. The score is the mean of ``sqrt(reward)`` x 100. Timings vary between runs, so
  only EX-gated rewards can be reproduced exactly; the buckets and the averaging are the
  script's.
* **Soft-F1**: both results lose duplicate rows (first occurrences kept, in order); the i-th
  gold row is compared with the i-th predicted row by cell membership (a predicted cell found
  anywhere in the gold row is a match, otherwise predicted-only; a gold cell missing from the
  predicted row is gold-only; each divided by the gold row's width); extra rows on either side
  count fully; F1 from the summed match / predicted-only / gold-only. Two empty results score 1;
  an error scores 0.
Reports break down by the gold records' ``difficulty`` (simple / moderate / challenging).
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from sqlsynth.eval.conventions.sqlite_exec import run_sql

DIFFICULTIES = ("simple", "moderate", "challenging")
DEFAULT_TIMEOUT = 30.0
DEFAULT_ITERATIONS = 100


def same_row_set(pred: list[tuple], gold: list[tuple]) -> bool:
    return set(pred) == set(gold)


def _row_match(pred_row: tuple, gold_row: tuple) -> tuple[float, float, float]:
    width = len(gold_row)
    matched = sum(1 for v in pred_row if v in gold_row)
    pred_only = len(pred_row) - matched
    gold_only = sum(1 for v in gold_row if v not in pred_row)
    return matched / width, pred_only / width, gold_only / width


def soft_f1(pred: list[tuple], gold: list[tuple]) -> float:
    """BIRD Mini-Dev's ``calculate_f1_score(predicted, ground_truth)``."""
    if not pred and not gold:
        return 1.0
    pred_rows = list(dict.fromkeys(pred))
    gold_rows = list(dict.fromkeys(gold))
    tp = fp = fn = 0.0
    for i, gold_row in enumerate(gold_rows):
        if i >= len(pred_rows):
            fn += 1
            continue
        m, p, g = _row_match(pred_rows[i], gold_row)
        tp, fp, fn = tp + m, fp + p, fn + g
    fp += max(len(pred_rows) - len(gold_rows), 0)
    precision = tp / (tp + fp) if tp + fp > 0 else 0
    recall = tp / (tp + fn) if tp + fn > 0 else 0
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0


def reward_for_ratio(ratio: float) -> float:
    """R-VES reward bucket of an averaged gold/pred time ratio."""
    if ratio == 0:
        return 0.0
    for bound, reward in ((2, 1.25), (1, 1.0), (0.5, 0.75), (0.25, 0.5)):
        if ratio >= bound:
            return reward
    return 0.25


def drop_outliers(values: list[float]) -> list[float]:
    """Values strictly within mean +- 3 population standard deviations (numpy's np.std)."""
    mean = statistics.fmean(values)
    std = statistics.pstdev(values)
    return [v for v in values if mean - 3 * std < v < mean + 3 * std]


def ves_score(rewards: list[float]) -> float:
    """Mean of sqrt(reward) x 100 over all questions (wrong ones count as 0)."""
    return sum(math.sqrt(r) * 100 for r in rewards) / len(rewards) if rewards else 0.0


@dataclass(frozen=True)
class BirdVerdict:
    ex: bool
    soft_f1: float
    pred_error: str | None = None
    timed_out: bool = False


def judge(db_file: Path, gold: str, pred: str, *, timeout: float | None = DEFAULT_TIMEOUT
          ) -> BirdVerdict:
    """EX and Soft-F1 of one pair; the time limit covers both statements, as in the script."""
    started = time.monotonic()
    p = run_sql(db_file, pred, timeout=timeout)
    if not p.ok:
        return BirdVerdict(False, 0.0, "timeout" if p.timed_out else p.error, p.timed_out)
    left = None if timeout is None else max(timeout - (time.monotonic() - started), 0.001)
    g = run_sql(db_file, gold, timeout=left)
    if not g.ok:  # the script scores any failure, the gold's included, as 0
        return BirdVerdict(False, 0.0, "timeout" if g.timed_out else f"gold: {g.error}",
                           g.timed_out)
    return BirdVerdict(same_row_set(p.rows or [], g.rows or []),
                       soft_f1(p.rows or [], g.rows or []))


def ves_reward(db_file: Path, gold: str, pred: str, *, iterations: int = DEFAULT_ITERATIONS,
               timeout: float | None = DEFAULT_TIMEOUT) -> float:
    """R-VES reward of one pair (0 unless the row sets are equal)."""
    budget = None if timeout is None else timeout * iterations
    started = time.monotonic()

    def remaining() -> float | None:
        return None if budget is None else max(budget - (time.monotonic() - started), 0.001)

    p = run_sql(db_file, pred, timeout=remaining())
    g = run_sql(db_file, gold, timeout=remaining())
    if not (p.ok and g.ok) or not same_row_set(p.rows or [], g.rows or []):
        return 0.0
    ratios = []
    for _ in range(max(iterations, 1)):
        pt = run_sql(db_file, pred, timeout=remaining())
        gt = run_sql(db_file, gold, timeout=remaining())
        if not (pt.ok and gt.ok):
            return 0.0  # the script's overall time limit ran out
        ratios.append(gt.seconds / pt.seconds if pt.seconds > 0 else 0.0)
    kept = drop_outliers(ratios)
    if not kept:
        return 0.0
    return reward_for_ratio(sum(kept) / len(kept))
