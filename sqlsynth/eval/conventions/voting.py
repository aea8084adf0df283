"""Majority voting @k by execution result, as OmniSQL's evaluation selects a prediction.

Each of the k candidates runs on the question's database; candidates that fail (or time out)
get no vote; the others are grouped by their result taken as a *set* of rows (OmniSQL's
``frozenset(fetchall())``), and the first candidate of the largest group wins (ties go to the
group seen first). When no candidate runs, OmniSQL returns a random one (seeded); here the
first candidate is returned, which is equally wrong and reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlsynth.eval.conventions.sqlite_exec import run_sql

VOTE_TIMEOUT = 600.0  # OmniSQL's per-candidate limit


def vote(candidates: Sequence[str], db_file: Path, *, timeout: float | None = VOTE_TIMEOUT
         ) -> str:
    groups: dict[frozenset, list[str]] = {}
    for sql in candidates:
        run = run_sql(db_file, sql, timeout=timeout)
        if run.ok:
            groups.setdefault(frozenset(run.rows or ()), []).append(sql)
    if not groups:
        return candidates[0]
    return max(groups.values(), key=len)[0]
