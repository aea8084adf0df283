"""SQLComponentClassifier: Spider hardness by default, a score mapping otherwise."""

from __future__ import annotations

import pytest

from sqlsynth.operators.base import Reject
from sqlsynth.operators.eval import SQLComponentClassifier
from sqlsynth.sql import difficulty_score, spider_hardness

QUERIES = [
    "SELECT name FROM pupils",
    "SELECT name FROM pupils WHERE grade > 3 ORDER BY name",
    ("SELECT grade, count(*) FROM pupils WHERE grade > 3 GROUP BY grade HAVING count(*) > 1 "
     "ORDER BY grade LIMIT 2"),
    ("SELECT name FROM pupils WHERE grade > (SELECT avg(grade) FROM pupils) "
     "UNION SELECT name FROM pupils WHERE name LIKE 'A%'"),
]


@pytest.mark.parametrize("sql", QUERIES)
async def test_defaults_are_spider_hardness(sql, ctx):
    out = await SQLComponentClassifier().aprocess_row({"SQL": sql}, ctx)
    assert out == [{"SQL": sql, "sql_component_difficulty": spider_hardness(sql)}]


async def test_labels_cover_several_levels(ctx):
    op = SQLComponentClassifier(difficulty_thresholds=[2, 4, 6],
                                difficulty_labels=["easy", "medium", "hard", "extra"])
    labels = [(await op.aprocess_row({"SQL": q}, ctx))[0]["sql_component_difficulty"]
              for q in QUERIES]
    assert labels[0] == "easy" and labels[-1] == "extra" and len(set(labels)) >= 3


@pytest.mark.parametrize("sql", QUERIES)
async def test_custom_thresholds_map_the_score(sql, ctx):
    op = SQLComponentClassifier(difficulty_thresholds=[0, 3], difficulty_labels=["a", "b", "c"])
    score = difficulty_score(sql)
    expected = "a" if score <= 0 else "b" if score <= 3 else "c"
    out = await op.aprocess_row({"SQL": sql}, ctx)
    assert out[0]["sql_component_difficulty"] == expected


def test_thresholds_and_labels_are_validated():
    with pytest.raises(ValueError, match="one more label"):
        SQLComponentClassifier(difficulty_thresholds=[1, 2], difficulty_labels=["a", "b"])
    with pytest.raises(ValueError, match="ascending"):
        SQLComponentClassifier(difficulty_thresholds=[3, 1], difficulty_labels=["a", "b", "c"])


async def test_unparseable_sql_is_rejected(ctx):
    out = await SQLComponentClassifier().aprocess_row({"SQL": "SELECT FROM WHERE ((("}, ctx)
    assert isinstance(out, Reject) and out.reason == "unparseable_sql"
    out = await SQLComponentClassifier().aprocess_row({"SQL": ""}, ctx)
    assert out.reason == "empty_sql"


def test_output_key_follows_run_keywords():
    op = SQLComponentClassifier()
    op.bind(input_sql_key="query", output_difficulty_key="hardness")
    assert op.required_input_keys() == ["query"]
