from __future__ import annotations

from sqlsynth.prompts.question_generation import (
    Text2SQLQuestionGeneratorPrompt,
    parse_question_response,
)


def test_parse_accepts_the_format_with_surrounding_text():
    text = "Sure!\n<question> How many orders? </question>\n<evidence>none</evidence>\nBye"
    assert parse_question_response(text, needs_evidence=False) == ("How many orders?", "")
    text = "<question>Big spenders?</question><evidence>big = amount > 30</evidence>"
    assert parse_question_response(text, needs_evidence=True) == (
        "Big spenders?",
        "big = amount > 30",
    )
    assert parse_question_response("<question>Q</question>", needs_evidence=False) == ("Q", "")


def test_parse_is_strict():
    bad = [
        None,
        "",
        "How many orders?",
        "<question></question>",
        "<question>Q</question><question>R</question>",
        "<question>Q</question><evidence>a</evidence><evidence>b</evidence>",
        "<question>Q",
        "<question>Q <evidence>e</evidence></question>",
    ]
    for text in bad:
        assert parse_question_response(text, needs_evidence=False) is None, text
    assert parse_question_response("<question>Q</question>", needs_evidence=True) is None
    text = "<question>Q</question><evidence>N/A</evidence>"
    assert parse_question_response(text, needs_evidence=True) is None


def test_template_parse_method_matches_module_parser():
    template = Text2SQLQuestionGeneratorPrompt()
    text = "<question>Q</question><evidence>E</evidence>"
    assert template.parse_response(text, needs_evidence=True) == ("Q", "E")
