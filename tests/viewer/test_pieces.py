"""The viewer's pure parts: SQL features, highlighting, prices, selection, review marks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sqlsynth.viewer.highlight import highlight_sql
from sqlsynth.viewer.pricing import cost_lines, load_prices, total_usd
from sqlsynth.viewer.review import ReviewMarks, apply_review
from sqlsynth.viewer.run_folder import REVIEW_FILE, row_key
from sqlsynth.viewer.select import select_rejects, select_rows
from sqlsynth.viewer.sql_features import feature_coverage, sql_features


@pytest.mark.parametrize("sql, expected", [
    ("SELECT a FROM t", set()),
    ("SELECT COUNT(*) FROM t JOIN u ON t.id = u.id GROUP BY t.a HAVING COUNT(*) > 1",
     {"join", "aggregate", "group_by", "having"}),
    ("SELECT a FROM t WHERE b IN (SELECT b FROM u)", {"nested"}),
    ("SELECT a FROM (SELECT a FROM t) AS s", {"nested"}),
    ("SELECT a FROM t UNION SELECT a FROM u", {"set_operation"}),
    ("SELECT a FROM t EXCEPT SELECT a FROM u", {"set_operation"}),
    ("WITH s AS (SELECT 1 AS a) SELECT DISTINCT a FROM s ORDER BY a LIMIT 3",
     {"cte", "distinct", "order_by", "limit"}),
    ("SELECT ROW_NUMBER() OVER (ORDER BY a), CASE WHEN a LIKE 'x%' THEN 1 END FROM t",
     {"window", "case", "like", "order_by"}),
    # words inside literals or names are not features
    ("SELECT 'count join union' AS join_date FROM t", set()),
])
def test_sql_features(sql: str, expected: set[str]) -> None:
    assert sql_features(sql) == expected


def test_unparsable_sql_is_counted_apart() -> None:
    assert feature_coverage(["SELECT (", "SELECT a FROM t JOIN u"]) == {"unparsed": 1,
                                                                         "join": 1}


def test_highlight_keeps_every_character_and_escapes() -> None:
    sql = "SELECT \"name\" , 'a<b' -- why\nFROM t WHERE x = 10"
    out = highlight_sql(sql)
    assert '<span class="k">SELECT</span>' in out and '<span class="n">10</span>' in out
    assert "&lt;b" in out and "<b" not in out.replace("<span", "")
    import html
    import re

    assert html.unescape(re.sub(r"</?span[^>]*>", "", out)) == sql


def test_prices_default_override_and_unknown(tmp_path: Path) -> None:
    usage = {"gpt-4o-mini": {"prompt_tokens": 1_000_000, "completion_tokens": 1_000_000},
             "my-local": {"prompt_tokens": 50}}
    lines = {c.model: c for c in cost_lines(usage, load_prices())}
    assert lines["gpt-4o-mini"].usd == pytest.approx(0.75)
    assert lines["my-local"].usd is None and lines["my-local"].prompt_tokens == 50
    table = tmp_path / "prices.toml"
    table.write_text('[my-local]\ninput = 2.0\noutput = 4.0\n', encoding="utf-8")
    lines = {c.model: c for c in cost_lines(usage, load_prices(table))}
    assert lines["my-local"].usd == pytest.approx(50 * 2.0 / 1e6)
    assert total_usd(list(lines.values())) == pytest.approx(0.75 + 1e-4)
    bad = tmp_path / "bad.json"
    bad.write_text('{"m": {"output": 1}}', encoding="utf-8")
    with pytest.raises(ValueError, match="bad.json: model 'm'"):
        load_prices(bad)


ROWS = [
    {"db_id": "shop", "question": "How many shoes?", "SQL": "SELECT COUNT(*) FROM shoes",
     "sql_component_difficulty": "easy", "question_type": "vague"},
    {"db_id": "clinic", "question": "Oldest patient", "SQL": "SELECT MAX(age) FROM p",
     "sql_component_difficulty": "hard", "question_type": "formal"},
    {"db_id": "shop", "question": "Red shoes", "SQL": "SELECT * FROM shoes WHERE c='red'",
     "sql_component_difficulty": "medium", "question_type": "formal"},
]


def test_select_rows_filters_and_sorts() -> None:
    items = list(enumerate(ROWS))
    keys = {i: row_key(r) for i, r in items}
    assert [i for i, _ in select_rows(items, {"db": "shop"}, {}, keys)] == [0, 2]
    assert [i for i, _ in select_rows(items, {"q": "SHOES red"}, {}, keys)] == [2]
    assert [i for i, _ in select_rows(items, {"style": "formal", "sort": "difficulty"}, {},
                                      keys)] == [2, 1]
    assert [i for i, _ in select_rows(items, {"sort": "difficulty", "desc": "1"}, {},
                                      keys)] == [1, 2, 0]
    marks = {keys[1]: {"status": "reject"}}
    assert [i for i, _ in select_rows(items, {"review": "unmarked"}, marks, keys)] == [0, 2]
    assert [i for i, _ in select_rows(items, {"review": "reject"}, marks, keys)] == [1]


def test_select_rejects() -> None:
    rejects = [{"step": 2, "reason": "syntax_error", "detail": "near FROM", "row": ROWS[0]},
               {"step": 4, "reason": "no_agreement", "detail": "judge said no", "row": ROWS[1]}]
    assert select_rejects(rejects, {"step": "4"}) == [rejects[1]]
    assert select_rejects(rejects, {"reason": "syntax_error", "db": "shop"}) == [rejects[0]]
    assert select_rejects(rejects, {"q": "judge"}) == [rejects[1]]


def test_marks_are_saved_reloaded_and_applied(tmp_path: Path) -> None:
    marks = ReviewMarks(tmp_path)
    marks.set(ROWS[0], "reject", "wrong table")
    marks.set(ROWS[1], "accept")
    marks.set(ROWS[2], "accept")
    marks.set(ROWS[2], None)  # cleared
    with pytest.raises(ValueError, match="status must be"):
        marks.set(ROWS[2], "maybe")
    lines = [json.loads(x) for x in (tmp_path / REVIEW_FILE).read_text().splitlines()]
    assert [(x["status"], x["note"]) for x in lines] == [("reject", "wrong table"), ("accept", "")]
    assert ReviewMarks(tmp_path).counts() == {"accept": 1, "reject": 1}
    kept, dropped = apply_review(ROWS, tmp_path, keep_marks=True)
    assert dropped == 1 and [r["question"] for r in kept] == ["Oldest patient", "Red shoes"]
    assert kept[0]["review"] == {"status": "accept", "note": ""} and "review" not in kept[1]
    assert not list(tmp_path.glob(".*tmp")), "atomic writes leave no temporary file"


def test_highlight_multiword_keywords() -> None:
    out = highlight_sql("SELECT a FROM t GROUP BY a ORDER BY a")
    assert '<span class="k">GROUP BY</span>' in out and '<span class="k">ORDER BY</span>' in out
