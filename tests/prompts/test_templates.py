from __future__ import annotations

import importlib

import pytest

from sqlsynth.prompts.base import chat_messages
from sqlsynth.prompts.sql_functions import functions_for
from sqlsynth.prompts.sql_generation import SelectSQLGeneratorPrompt
from sqlsynth.prompts.sql_variation import VARIATION_KINDS, SQLVariationGeneratorPrompt
from sqlsynth.prompts.text2sql_prompt import Text2SQLPromptGeneratorPrompt


def test_select_prompt_lists_functions_and_column_target():
    text = SelectSQLGeneratorPrompt().build_prompt(
        engine="MySQL",
        schema="CREATE TABLE t (a INT);",
        sample_rows="INSERT INTO t VALUES (1);",
        complexity="Moderate",
        functions=[("DATEDIFF(a, b)", "days between two dates")],
        column_count=2,
    )
    assert text.startswith("Write one MySQL SELECT query")
    assert "- DATEDIFF(a, b): days between two dates" in text
    assert "about 2 columns" in text and "GROUP BY" in text
    plain = SelectSQLGeneratorPrompt().build_prompt(
        engine="SQLite", schema="S", sample_rows="", complexity="Simple", column_count=1
    )
    assert "Sample rows" not in plain and "Use where it fits" not in plain
    assert "about 1 column." in plain


def test_engine_function_lists():
    assert "DATE_TRUNC(unit, ts)" in functions_for("postgres")
    assert functions_for("postgresql") is functions_for("postgres")
    assert "DATE_FORMAT(d, fmt)" in functions_for("mysql")
    assert "strftime(format, value)" in functions_for("sqlite")


def test_variation_prompt_names_the_kind():
    kind = "Performance Rewrites"
    text = SQLVariationGeneratorPrompt().build_prompt(
        engine="PostgreSQL", schema="S", sql="SELECT 1", variation_type=kind
    )
    assert f"Kind: {kind} - {VARIATION_KINDS[kind]}" in text


def test_chat_messages_skip_empty_system():
    template = Text2SQLPromptGeneratorPrompt()
    assert chat_messages(template, "hi") == [{"role": "user", "content": "hi"}]
    assert [m["role"] for m in chat_messages(SelectSQLGeneratorPrompt(), "hi")] == [
        "system",
        "user",
    ]


@pytest.mark.parametrize(
    "name",
    [
        "SelectSQLGeneratorPrompt",
        "SQLVariationGeneratorPrompt",
        "Text2SQLQuestionGeneratorPrompt",
        "Text2SQLPromptGeneratorPrompt",
        "Text2SQLCotGeneratorPrompt",
    ],
)
def test_package_reexports(name):
    prompts = importlib.import_module("sqlsynth.prompts")
    assert getattr(prompts, name).__name__ == name
