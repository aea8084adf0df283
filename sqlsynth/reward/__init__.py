"""The execution reward an RL trainer calls: 1 when a completion's SQL returns the gold result.

``execution_reward(completion, db, db_id, gold_sql)`` extracts the completion's final SQL (the
pipelines' own ``extract_sql``), runs it through ``DatabaseManager`` (the guard's rendering,
the deadline, the byte and row caps, the read-only account, the worker processes) and compares
it with the gold result under an EX convention. ``compute_score`` is verl's reward signature,
``trl_reward`` builds a TRL ``GRPOTrainer`` reward function. Names are imported on first use.
"""

from __future__ import annotations

from sqlsynth._lazy import lazy_exports

_EXPORTS = {
    "ExecutionReward": "sqlsynth.reward.score",
    "RewardResult": "sqlsynth.reward.score",
    "execution_reward": "sqlsynth.reward.score",
    "REWARD_CONVENTIONS": "sqlsynth.reward.matching",
    "result_fingerprint": "sqlsynth.reward.matching",
    "compute_score": "sqlsynth.reward.trainers",
    "trl_reward": "sqlsynth.reward.trainers",
    "resolve_database": "sqlsynth.reward.trainers",
    "shared_manager": "sqlsynth.reward.managers",
    "close_shared_managers": "sqlsynth.reward.managers",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
