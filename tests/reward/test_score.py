"""The execution reward on correct, wrong and malformed completions, on all three engines."""

from __future__ import annotations

import pytest

from sqlsynth.reward.score import ExecutionReward, completion_text, format_score
from tests.db import dataset

DB = dataset.DB_ID
GOLD = "SELECT name FROM singer WHERE age > 40 ORDER BY age DESC"


def fenced(sql: str, reasoning: str = "Singers over 40, oldest first.") -> str:
    return f"{reasoning}\n```sql\n{sql}\n```"


@pytest.fixture
def reward(make_manager) -> ExecutionReward:
    return ExecutionReward(make_manager(timeout=5.0))


CORRECT = [
    "SELECT name FROM singer WHERE age > 40 ORDER BY age DESC",
    "select s.name as who from singer as s where s.age >= 41 order by s.age desc",
    "SELECT name FROM (SELECT name, age FROM singer WHERE age > 40) AS t ORDER BY age DESC",
]
WRONG = [
    "SELECT name FROM singer WHERE age > 40 ORDER BY age ASC",  # gold orders: order counts
    "SELECT name FROM singer",
    "SELECT name, age FROM singer WHERE age > 40 ORDER BY age DESC",  # a column too many
    "SELECT count(*) FROM singer",
]
MALFORMED = {
    "no fence": ("SELECT name FROM singer WHERE age > 40", "no_sql"),
    "empty fence": ("```sql\n\n```", "no_sql"),
    "syntax": (fenced("SELEC name FROM singer"), None),
    "unknown table": (fenced("SELECT name FROM singers"), None),
    "two statements": (fenced("SELECT 1; SELECT name FROM singer"), "forbidden"),
    "write": (fenced("DELETE FROM singer"), "forbidden"),
    "empty": ("", "no_sql"),
    "not text": (None, "no_sql"),
}


@pytest.mark.parametrize("sql", CORRECT)
def test_correct_completion_scores_one(reward, sql):
    result = reward.score(fenced(sql), DB, GOLD)
    assert (result.score, result.reason) == (1.0, "match")


@pytest.mark.parametrize("sql", WRONG)
def test_wrong_result_scores_zero(reward, sql):
    result = reward.score(fenced(sql), DB, GOLD)
    assert (result.score, result.reason) == (0.0, "wrong_result")


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_completion_scores_zero_with_a_reason(reward, name):
    completion, reason = MALFORMED[name]
    result = reward.score(completion, DB, GOLD)
    assert result.score == 0.0
    if reason:
        assert result.reason == reason
    else:
        assert result.reason in ("syntax_error", "runtime_error", "forbidden"), result


def test_last_sql_block_is_the_answer(reward):
    draft_then_answer = fenced("SELECT 1") + "\nOn reflection:\n" + fenced(GOLD)
    assert reward(draft_then_answer, DB, GOLD) == 1.0
    assert reward(fenced(GOLD) + "\nNo, rather:\n" + fenced("SELECT 1"), DB, GOLD) == 0.0


def test_conversational_completion_reads_the_last_assistant_message(reward):
    messages = [{"role": "user", "content": fenced("SELECT 1")},
                {"role": "assistant", "content": fenced(GOLD)}]
    assert completion_text(messages) == fenced(GOLD)
    assert reward(messages, DB, GOLD) == 1.0


def test_gold_that_fails_is_named_not_rewarded(reward):
    result = reward.score(fenced("SELECT 1"), DB, "SELECT nothing FROM nowhere")
    assert result.score == 0.0 and result.reason.startswith("gold_")
    assert reward.score(fenced("SELECT 1"), "no_such_db", "SELECT 1").reason == "gold_unknown_db"


def test_unordered_gold_ignores_row_order(reward):
    gold = "SELECT name FROM singer WHERE age > 40"
    assert reward(fenced("SELECT name FROM singer WHERE age > 40 ORDER BY name"), DB, gold) == 1.0


def test_gold_fingerprint_guards_against_another_database(reward):
    fingerprint = reward.gold(DB, GOLD).fingerprint
    assert fingerprint and fingerprint.startswith("sha256:")
    assert reward(fenced(GOLD), DB, GOLD, gold_fingerprint=fingerprint) == 1.0
    result = reward.score(fenced(GOLD), DB, GOLD, gold_fingerprint="sha256:" + "0" * 32)
    assert (result.score, result.reason) == (0.0, "gold_fingerprint_mismatch")


def test_gold_runs_once_per_scorer(reward):
    manager = reward.manager
    reward(fenced(GOLD), DB, GOLD)
    before = manager.stats["executions"]
    for _ in range(3):
        reward(fenced("SELECT name FROM singer WHERE age > 40 ORDER BY age DESC"), DB, GOLD)
    assert manager.stats["executions"] == before, "gold and the repeated prediction are cached"


def test_format_component(make_manager):
    scorer = ExecutionReward(make_manager(timeout=5.0), format_weight=0.2)
    assert scorer(fenced(GOLD), DB, GOLD) == pytest.approx(1.0)
    assert scorer(f"```sql\n{GOLD}\n```", DB, GOLD) == pytest.approx(0.8)  # no reasoning
    assert scorer(fenced("SELECT 1"), DB, GOLD) == pytest.approx(0.2)
    assert scorer("```\nSELECT 1\n```", DB, GOLD) == 0.0  # untagged: the SQL is read, no format
    assert format_score(fenced(GOLD)) == 1.0 and format_score("text") == 0.0
    with pytest.raises(ValueError, match="format_weight"):
        ExecutionReward(make_manager(), format_weight=1.5)


def test_conventions_differ_where_the_official_scripts_do(make_manager):
    manager = make_manager(timeout=5.0)
    sqlsynth = ExecutionReward(manager)
    bird = ExecutionReward(manager, convention="bird")
    suite = ExecutionReward(manager, convention="test-suite")
    gold = "SELECT country, age FROM singer WHERE age > 40"
    swapped = fenced("SELECT age, country FROM singer WHERE age > 40")
    assert (sqlsynth(swapped, DB, gold), bird(swapped, DB, gold), suite(swapped, DB, gold)) \
        == (0.0, 0.0, 1.0)
    gold = "SELECT country FROM singer WHERE country = 'France'"  # two rows, one value
    once = fenced("SELECT DISTINCT country FROM singer WHERE country = 'France'")
    assert (sqlsynth(once, DB, gold), bird(once, DB, gold), suite(once, DB, gold)) \
        == (0.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="convention"):
        ExecutionReward(manager, convention="spider-em")
