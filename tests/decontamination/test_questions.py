"""Question overlap: values normalised, stock phrasing weighted down, rephrasing still found."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sqlsynth.decontamination.questions import QuestionIndex, ngrams, question_tokens

SPIDER_DEV = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "spider" / "dev.json"

BENCH = ["How many singers do we have?", "What is the total number of singers?",
         "Show the name and country of singers from France older than 30.",
         "What are the names of all stadiums?", "How many stadiums are there?",
         "List the names of conductors in ascending order of age."]


def test_values_are_one_token():
    assert question_tokens("Singers from 'St. Louis' or New York, aged 30?") == [
        "singer", "from", "0", "or", "0", "aged", "0"]
    assert question_tokens("Älter als 30") == ["alter", "als", "0"]


def test_ngrams_up_to_n():
    assert ngrams(["a", "b", "c"], 2) == {("a",), ("b",), ("c",), ("a", "b"), ("b", "c")}


def test_exact_and_literal_changed_questions_score_one():
    index = QuestionIndex(BENCH)
    assert index.best(BENCH[0]) == (0, pytest.approx(1.0))
    changed = "Show the name and country of singers from Germany older than 45."
    assert index.best(changed) == (2, pytest.approx(1.0))


@pytest.fixture(scope="module")
def spider() -> list[str]:
    if not SPIDER_DEV.is_file():
        pytest.skip(f"Spider dev not found at {SPIDER_DEV}")
    return [item["question"] for item in json.loads(SPIDER_DEV.read_text())]


def test_rephrased_question_scores_above_stock_phrasing(spider):
    index = QuestionIndex(spider)
    target = spider.index("What are the names of all the countries that became independent "
                          "after 1950?")
    position, rephrased = index.best("Which countries became independent after 1970? "
                                     "Give their names.")
    assert position == target and rephrased >= 0.7
    # a question on another database sharing "what is the average ... of all" only
    _, stock = index.best("What is the average length of stay of all patients?")
    assert stock < 0.7


def test_no_shared_word_gives_no_match():
    assert QuestionIndex(BENCH).best("Revenue by quarter") is None
    assert QuestionIndex(BENCH).best("") is None
