"""Output grammars: which template declares which, that llama.cpp parses them, and that the
local model's constrained answers parse with the templates' own parsers (slow)."""

from __future__ import annotations

import re

import pytest

from sqlsynth.prompts import grammars
from sqlsynth.prompts.correspondence import Text2SQLCorrespondenceFilterPrompt, parse_verdict
from sqlsynth.prompts.cot_generation import Text2SQLCotGeneratorPrompt
from sqlsynth.prompts.grammars import ALL_GRAMMARS, grammar_of
from sqlsynth.prompts.question_generation import (
    Text2SQLQuestionGeneratorPrompt,
    parse_question_response,
)
from sqlsynth.prompts.sql_generation import SelectSQLGeneratorPrompt
from sqlsynth.prompts.sql_variation import SQLVariationGeneratorPrompt
from sqlsynth.prompts.text2sql_prompt import Text2SQLPromptGeneratorPrompt
from sqlsynth.sql import extract_sql, parse_single


def test_templates_declare_their_formats():
    assert grammar_of(SelectSQLGeneratorPrompt()) == grammars.SQL_BLOCK
    assert grammar_of(SQLVariationGeneratorPrompt()) == grammars.SQL_BLOCK
    question = Text2SQLQuestionGeneratorPrompt()
    assert grammar_of(question) == grammars.QUESTION_EVIDENCE
    assert grammar_of(question, "output_grammar_with_evidence") == \
        grammars.QUESTION_REQUIRED_EVIDENCE
    assert grammar_of(Text2SQLCorrespondenceFilterPrompt()) == grammars.REASON_THEN_VERDICT
    assert grammar_of(Text2SQLCotGeneratorPrompt()) == grammars.REASONING_THEN_SQL
    assert grammar_of(Text2SQLPromptGeneratorPrompt()) == grammars.REASONING_THEN_SQL


def test_grammar_of_user_templates():
    class Plain:
        pass

    class Empty:
        output_grammar = "  "

    class Method:
        def output_grammar(self) -> str:
            return 'root ::= "x"'

    class Wrong:
        output_grammar = 42

    assert grammar_of(Plain()) is None and grammar_of(Empty()) is None
    assert grammar_of(Method()) == 'root ::= "x"'
    with pytest.raises(TypeError, match=r"Wrong\.output_grammar"):
        grammar_of(Wrong())


def test_every_grammar_has_a_root_and_bounded_free_text():
    for name, text in ALL_GRAMMARS.items():
        assert text.startswith("root ::= "), name
        # free text only as bounded repetitions, so a rambling model reaches the end part
        assert not re.search(r"\]\s*[*+]", text), name
        assert re.search(r"\{\d+,\d+\}", text), name


def test_bounds_are_parameters():
    assert "sqlchar{1,50}" in grammars.sql_block_grammar(50)
    assert "[^`]{4,19}" in grammars.reasoning_then_sql_grammar(20, 50, min_reasoning_chars=5)
    assert "{0,9}" in grammars.reason_then_verdict_grammar(10)


def test_llama_cpp_parses_every_grammar():
    llama_cpp = pytest.importorskip("llama_cpp")
    from sqlsynth.llm.local import compile_grammar, default_gguf_path

    vocab = llama_cpp.Llama(model_path=str(default_gguf_path()), vocab_only=True, verbose=False)
    for name, text in ALL_GRAMMARS.items():
        assert isinstance(compile_grammar(vocab, text), llama_cpp.LlamaGrammar), name


SCHEMA = "students(id INTEGER PRIMARY KEY, name TEXT -- e.g. Ann, Bo; grade INTEGER -- e.g. 3, 5)"
SQL = "SELECT name FROM students WHERE grade > 3"


@pytest.fixture(scope="module")
def local_chat(tmp_path_factory):
    pytest.importorskip("llama_cpp")
    from sqlsynth.llm import LocalChat

    return LocalChat(backend="llama_cpp", cache=tmp_path_factory.mktemp("cache") / "c.sqlite",
                     seed=0)


def _messages(template, **fields) -> list[dict]:
    from sqlsynth.prompts.base import chat_messages

    return chat_messages(template, template.build_prompt(engine="SQLite", **fields))


def _select_of(text: str) -> str:
    sql = extract_sql(text)
    assert sql is not None, text
    tree = parse_single(sql, "sqlite")
    assert tree.key in ("select", "with", "union", "intersect", "except"), sql
    return sql


@pytest.mark.slow
async def test_local_model_sql_answer_is_a_select(local_chat):
    template = SelectSQLGeneratorPrompt()
    messages = _messages(template, schema=SCHEMA, sample_rows="", complexity="Simple")
    answers = await local_chat.achat(messages, n=2, temperature=0.8,
                                     grammar=template.output_grammar)
    for answer in answers:
        assert answer.startswith("```sql\n") and answer.endswith("\n```")
        _select_of(answer)


@pytest.mark.slow
async def test_local_model_answers_parse_in_every_format(local_chat):
    question = Text2SQLQuestionGeneratorPrompt()
    answer = (await local_chat.achat(
        _messages(question, schema=SCHEMA, sql=SQL, style="Vague", needs_evidence=True),
        temperature=0.8, grammar=question.output_grammar_with_evidence))[0]
    assert parse_question_response(answer, needs_evidence=True) is not None, answer

    judge = Text2SQLCorrespondenceFilterPrompt()
    answer = (await local_chat.achat(
        _messages(judge, schema=SCHEMA, question="Who has a grade above 3?", evidence="",
                  sql=SQL),
        temperature=0.0, grammar=judge.output_grammar))[0]
    assert parse_verdict(answer) is not None, answer

    cot = Text2SQLCotGeneratorPrompt()
    answer = (await local_chat.achat(
        _messages(cot, schema=SCHEMA, question="Who has a grade above 3?", evidence="",
                  sql=SQL),
        temperature=0.8, grammar=cot.output_grammar))[0]
    _select_of(answer)


def test_copied_format_placeholders_are_not_questions() -> None:
    from sqlsynth.prompts.question_generation import parse_question_response

    assert parse_question_response(
        "<question>The request.</question>\n<evidence>the evidence</evidence>",
        needs_evidence=False) is None
    assert parse_question_response(
        "<question>How many stores are in Texas?</question>\n<evidence>the evidence</evidence>",
        needs_evidence=False) == ("How many stores are in Texas?", "")
