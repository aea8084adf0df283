"""Text2SQLQuestionFilter and its checks: one reject reason per kind of non-question."""

from __future__ import annotations

import pytest

from sqlsynth.operators.base import Reject
from sqlsynth.operators.filter import Text2SQLQuestionFilter
from sqlsynth.operators.filter.question_checks import question_problem

SQL = "SELECT name FROM customers WHERE city = 'Leeds' ORDER BY name"


@pytest.mark.parametrize(
    "question",
    [
        "Which customers live in Leeds, in alphabetical order?",
        "What are the names of customers from Leeds?",
        "How many orders cost more than 10 pounds?",
        "Which city do most customers live in?",
        "List the customers (by name) who live in Leeds.",
        "What is the average order amount per customer for 2023?",
        "Who placed the largest order, and how much was it?",
        "Which students have the grade 'A'?",  # ends on a quoted value, not on the word "a"
        'How many cities are there whose name is "The"?',
    ],
)
def test_natural_questions_pass(question):
    assert question_problem(question, "Leeds refers to city = 'Leeds'", SQL) is None


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("", "empty_question"),
        ("   ?! ", "empty_question"),
        ("Is there a specific question you would like to ask?", "question_asks_back"),
        ("Could you please provide more details about the data?", "question_asks_back"),
        ("What would you like to know about customers?", "question_asks_back"),
        ("Write the SQL that lists the customers.", "question_mentions_sql"),
        ("Which rows does SELECT name FROM customers return?", "question_mentions_sql"),
        ("Who are the customers WHERE city = 'Leeds'?", "question_mentions_sql"),
        ("What is COUNT(*) for the orders?", "question_mentions_sql"),
        ("Which customers have customer_id = 3?", "question_mentions_sql"),
        ("Show `name` for every customer.", "question_mentions_sql"),
        ("What is the {column} of the customers?", "question_placeholder"),
        ("Which <value> appears most often?", "question_placeholder"),
        ("How many customers live in [city]?", "question_placeholder"),
        ("How many customers live in ___?", "question_placeholder"),
        ("Customers?", "question_fragment"),
        ("Show the number of", "question_fragment"),
        ("Which customers live in Leeds and", "question_fragment"),
        ("Which customers (from Leeds are there?", "question_fragment"),
        ("select name from customers where city = leeds order by name?", "question_copies_sql"),
    ],
)
def test_each_problem_has_its_reason(question, reason):
    problem = question_problem(question, "", SQL)
    assert problem is not None and problem[0] == reason, problem


@pytest.mark.parametrize(
    ("evidence", "restates"),
    [
        ("Leeds refers to city = 'Leeds'", False),
        ("Names are sorted alphabetically.", False),
        ("The answer is SELECT name FROM customers WHERE city = 'Leeds'", True),
        ("use name from customers where city leeds order by name", True),
    ],
)
def test_evidence_restating_the_sql(evidence, restates):
    problem = question_problem("Which customers live in Leeds?", evidence, SQL)
    assert (problem == ("evidence_restates_sql", problem[1]) if problem else False) == restates


async def test_operator_keeps_good_rows_and_records_the_check(ctx):
    op = Text2SQLQuestionFilter()
    row = {"db_id": "shop", "SQL": SQL, "question": "Who lives in Leeds?", "evidence": ""}
    assert await op.aprocess_row(row, ctx) == [{**row, "checks_passed": ["question_checks"]}]
    out = await op.aprocess_row({**row, "question": "Is there a specific question you would "
                                                    "like to ask?"}, ctx)
    assert isinstance(out, Reject) and out.reason == "question_asks_back"
    assert "Is there a specific question" in out.detail
    # a missing question is an empty one, not a crash
    out = await op.aprocess_row({"db_id": "shop", "SQL": SQL}, ctx)
    assert out.reason == "empty_question"


def test_reference_style_keys():
    op = Text2SQLQuestionFilter()
    op.bind(input_sql_key="query", input_question_key="q", input_evidence_key="ev")
    assert op.required_input_keys() == ["query"]
    with pytest.raises(TypeError):
        op.bind(output_question_key="x")


def test_spider_dev_questions_pass_and_their_sql_does_not():
    """The 1,034 human-written Spider dev questions: none is rejected; their gold SQL, offered
    as a question, is."""
    import json
    from pathlib import Path

    dev = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "spider" / "dev.json"
    if not dev.exists():
        pytest.skip(f"Spider dev set not present at {dev}")
    examples = json.loads(dev.read_text())
    rejected = [e["question"] for e in examples if question_problem(e["question"], "", e["query"])]
    assert rejected == []
    passed = [e["query"] for e in examples if question_problem(e["query"], "", e["query"]) is None]
    assert passed == []
