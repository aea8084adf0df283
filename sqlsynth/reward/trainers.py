"""The reward in the signatures RL trainers call, and the database template they resolve.

RL rows (``sqlsynth export --format rl``) name their database as ``db_id`` plus a ``database``
template: ``sqlite:///{db_root}`` for SQLite folders, or the server URL with ``{user}`` and
``{password}`` in place of the account (no secret is ever exported). The trainer fills in the
placeholders once (``resolve_database``) and every row of that database scores there.

* verl: ``compute_score(data_source, solution_str, ground_truth, extra_info, db_root=...)``
  (``custom_reward_function.path`` = a module of yours calling it; ``reward_kwargs`` reach it
  as keyword arguments);
* TRL: ``trl_reward(db_root=...)`` returns ``reward_func(completions, **columns)`` for
  ``GRPOTrainer(reward_funcs=[...])``; TRL passes the dataset's other columns as lists.
"""

from __future__ import annotations

import os
import string
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlsynth.reward.score import Completion, execution_reward

SQLITE_TEMPLATE = "sqlite:///{db_root}"


def resolve_database(template: str, **values: str | os.PathLike[str] | None) -> str:
    """``template`` with its ``{name}`` placeholders filled from ``values``; a placeholder
    without a value is an error that names it (never a silent, wrong database)."""
    given = {k: os.fspath(v) for k, v in values.items() if v is not None}
    needed = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    missing = [n for n in needed if n not in given]
    if missing:
        raise ValueError(f"database template {template!r} needs {', '.join(missing)}: pass "
                         + ", ".join(f"{n}=..." for n in missing))
    return template.format_map(given)


def _target(extra: Mapping[str, Any], values: Mapping[str, Any]) -> str:
    template = extra.get("database") or SQLITE_TEMPLATE
    return resolve_database(str(template), **values)


def compute_score(data_source: str, solution_str: str, ground_truth: Any,
                  extra_info: Mapping[str, Any] | None = None, *, db_root: str | None = None,
                  user: str | None = None, password: str | None = None,
                  convention: str = "sqlsynth", format_weight: float = 0.0,
                  **limits: Any) -> float:
    """verl's reward: ``ground_truth`` is the gold SQL (``reward_model.ground_truth``),
    ``extra_info`` the row's (``db_id``, ``database``, ``gold_result_fingerprint``)."""
    extra = dict(extra_info or {})
    gold_sql = ground_truth.get("sql") if isinstance(ground_truth, Mapping) else ground_truth
    target = _target(extra, {"db_root": db_root, "user": user, "password": password})
    return execution_reward(solution_str, target, str(extra.get("db_id", "")), str(gold_sql),
                            convention=convention, format_weight=format_weight,
                            gold_fingerprint=extra.get("gold_result_fingerprint"), **limits)


def trl_reward(*, db_root: str | None = None, user: str | None = None,
               password: str | None = None, convention: str = "sqlsynth",
               format_weight: float = 0.0, **limits: Any
               ) -> Callable[..., list[float]]:
    """A TRL reward function over the TRL layout's columns (``db_id``, ``database``,
    ``gold_sql``, ``gold_result_fingerprint``)."""
    values = {"db_root": db_root, "user": user, "password": password}

    def sqlsynth_execution_reward(completions: Sequence[Completion], *,
                                  db_id: Sequence[str], gold_sql: Sequence[str],
                                  database: Sequence[str] | None = None,
                                  gold_result_fingerprint: Sequence[str | None] | None = None,
                                  **_: Any) -> list[float]:
        scores = []
        for i, completion in enumerate(completions):
            extra = {"database": database[i] if database else None}
            scores.append(execution_reward(
                completion, _target(extra, values), db_id[i], gold_sql[i],
                convention=convention, format_weight=format_weight,
                gold_fingerprint=gold_result_fingerprint[i] if gold_result_fingerprint else None,
                **limits))
        return scores

    return sqlsynth_execution_reward


__all__ = ["SQLITE_TEMPLATE", "compute_score", "resolve_database", "trl_reward"]
