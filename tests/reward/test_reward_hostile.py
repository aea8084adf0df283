"""The hostile corpus as completions: every reward is 0 and nothing changes on any engine.

Each attack is wrapped the ways a policy model could write it (a ```sql block, an untagged
block after a draft, a block with text around it); the scorer runs them all through the
sandbox. Afterwards the data checksums, the files on disk, the server settings and the worker
connection's session state are what they were before (``tests/db/hostile_checks.Target``).
"""

from __future__ import annotations

import pytest

from sqlsynth.reward.score import ExecutionReward
from sqlsynth.testing.hostile import attacks_for
from tests.db import dataset
from tests.db.test_hostile_corpus import make_target

#: an answer no attack computes (the corpus has harmless queries too, e.g. count(*))
GOLD = "SELECT name, age * 1000 + singer_id FROM singer ORDER BY singer_id DESC"


def wrappings(sql: str) -> list[str]:
    return [
        f"Names and codes.\n```sql\n{sql}\n```",
        f"Draft:\n```sql\nSELECT 1\n```\nFinal:\n```\n{sql}\n```\nDone.",
        f"```SQL {sql}```",
    ]


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("mysql", marks=pytest.mark.servers),
                                  pytest.param("postgres", marks=pytest.mark.servers)])
def test_hostile_completions_score_zero_and_change_nothing(kind, request, tmp_path):
    target = make_target(kind, request, tmp_path)
    manager = target.manager
    try:
        scorer = ExecutionReward(manager)
        assert scorer(f"```sql\n{GOLD}\n```", dataset.DB_ID, GOLD) == 1.0
        baseline, session = target.snapshot(), target.session_state()
        rewarded, reasons = [], set()
        for attack in attacks_for(kind):
            for completion in wrappings(attack.sql_for(target.evil_path())):
                result = scorer.score(completion, dataset.DB_ID, GOLD)
                reasons.add(result.reason)
                if result.score != 0.0:
                    rewarded.append(f"{attack.source} {attack.name}: {result}")
        assert not rewarded, "\n".join(rewarded)
        assert "error" not in reasons, "a reward call raised inside"
        after = target.snapshot()
        changed = sorted(k for k in set(baseline) | set(after) if baseline.get(k) != after.get(k))
        assert not changed, f"changed by reward calls: {changed}"
        assert target.session_state() == session
        assert scorer(f"```sql\n{GOLD}\n```", dataset.DB_ID, GOLD) == 1.0  # still scoring
    finally:
        manager.close()
