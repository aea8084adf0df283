"""Prompts fit the model (issue 16, item 6): with a small context, every generation step cuts
a wide schema to the tables the row names, and a prompt that still cannot fit is rejected as
``prompt_too_long`` before any request, never sent to fail as ``llm_error``."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from sqlsynth.operators.base import Reject
from sqlsynth.operators.generate import (
    SQLVariationGenerator,
    Text2SQLCoTGenerator,
    Text2SQLQuestionGenerator,
)
from sqlsynth.prompts.fit import estimate_tokens

TABLES = 60  # a Northwind-sized schema and then some: far beyond a 2,048-token context
GOOD_COT = "Orders of one customer, joined by key.\n```sql\nSELECT 1\n```"
ROW = {"db_id": "wide", "SQL": "SELECT t7.c_name FROM t7 JOIN t8 ON t7.ref_t8 = t8.id",
       "question": "Which names of table seven have a row in table eight?", "evidence": ""}


class SmallContextChat:
    """A chat model with a declared context window (as LocalChat has) that fails any request
    longer than it, as llama.cpp does."""

    model = "small-context"

    def __init__(self, window: int, answer: str) -> None:
        self.context_window = window
        self.answer = answer
        self.prompts: list[str] = []

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    async def achat(self, messages: list[dict], *, n: int = 1, **params: Any) -> list[str]:
        text = "\n".join(str(m["content"]) for m in messages)
        if estimate_tokens(text) > self.context_window:
            raise ValueError("Requested tokens exceed context window")
        self.prompts.append(text)
        return [self.answer] * n


def wide_db(root: Path) -> Path:
    folder = root / "wide"
    folder.mkdir(parents=True)
    with sqlite3.connect(folder / "wide.sqlite") as conn:
        for i in range(TABLES):
            ref = f", ref_t{i + 1} INTEGER REFERENCES t{i + 1}(id)" if i + 1 < TABLES else ""
            columns = ", ".join(f"c_{name} TEXT" for name in
                                ("name", "label", "status", "region", "notes", "code"))
            conn.execute(f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, {columns}{ref})")
            conn.execute(f"INSERT INTO t{i} (id, c_name) VALUES (1, 'row of table {i}')")
    return root


@pytest.fixture
def wide(tmp_path: Path) -> Any:
    from sqlsynth.db import DatabaseManager

    manager = DatabaseManager.from_path_or_url(str(wide_db(tmp_path / "dbs")))
    yield manager
    manager.close()


def test_the_whole_schema_would_overflow(wide) -> None:
    assert estimate_tokens(wide.render_schema_with_examples("wide")) > 2048


@pytest.mark.parametrize("make", [
    lambda llm, db: Text2SQLCoTGenerator(llm, db, sampling_num=1),
    lambda llm, db: Text2SQLQuestionGenerator(llm, None, db, question_candidates_num=1),
    lambda llm, db: SQLVariationGenerator(llm, db, num_variations=1, keep_original=False),
], ids=["cot", "question", "variation"])
async def test_schema_is_cut_to_the_tables_the_sql_names(make, wide, ctx) -> None:
    llm = SmallContextChat(2048, GOOD_COT)
    op = make(llm, wide)
    row = dict(ROW)
    if isinstance(op, Text2SQLQuestionGenerator):  # it writes the question: none given
        row.pop("question")
        llm.answer = "<question>Which names of table seven have a row in table eight?" \
                     "</question>\n<evidence></evidence>"
    out = await op.aprocess_row(row, ctx)
    assert llm.prompts, out  # the request was sent, and fitted
    prompt = llm.prompts[0]
    assert estimate_tokens(prompt) <= 2048
    assert "t7" in prompt and "t8" in prompt  # the tables the SQL names are kept
    assert "t40" not in prompt  # far tables are left out
    assert not (isinstance(out, Reject) and out.reason == "llm_error")


async def test_a_prompt_that_cannot_fit_is_prompt_too_long_not_llm_error(wide, ctx) -> None:
    llm = SmallContextChat(300, GOOD_COT)
    op = Text2SQLCoTGenerator(llm, wide, sampling_num=1)
    long_question = "Which names of table seven appear " + "and again " * 400 + "?"
    out = await op.aprocess_row({**ROW, "question": long_question}, ctx)
    assert isinstance(out, Reject) and out.reason == "prompt_too_long", out
    assert "context of 300" in out.detail
    assert not llm.prompts  # nothing was sent


async def test_a_model_without_a_declared_context_gets_the_whole_schema(dbm, ctx,
                                                                        fake_chat) -> None:
    llm = fake_chat(lambda text, n: GOOD_COT)
    op = Text2SQLCoTGenerator(llm, dbm, sampling_num=1)
    await op.aprocess_row({"db_id": "shop", "SQL": "SELECT name FROM customers",
                           "question": "Names of customers?", "evidence": ""}, ctx)
    user = llm.calls[0]["messages"][-1]["content"]
    assert "orders" in user and "customers" in user


async def test_sql_generation_cuts_the_schema_and_slots_cover_other_tables(wide, ctx) -> None:
    from sqlsynth.operators.generate import SQLGenerator

    llm = SmallContextChat(2048, "```sql\nSELECT c_name FROM t1\n```")
    op = SQLGenerator(llm, wide, generate_num=4)
    seen: set[str] = set()
    for slot in range(4):
        out = await op.aprocess_row({"db_id": "wide", "slot": slot}, ctx)
        assert not isinstance(out, Reject), out
        prompt = llm.prompts[-1]
        assert estimate_tokens(prompt) <= 2048
        seen |= {f"t{i}" for i in range(TABLES) if f"CREATE TABLE t{i} " in prompt}
    assert len(seen) > len({f"t{i}" for i in range(TABLES)
                            if f"CREATE TABLE t{i} " in llm.prompts[0]})  # slots differ


async def test_the_judge_cuts_the_schema_to_fit(wide, ctx) -> None:
    from sqlsynth.operators.filter import Text2SQLCorrespondenceFilter

    llm = SmallContextChat(2048, "It matches.\nVERDICT: YES")
    out = await Text2SQLCorrespondenceFilter(llm, wide).aprocess_row(dict(ROW), ctx)
    assert not isinstance(out, Reject), out
    assert estimate_tokens(llm.prompts[0]) <= 2048 and "t7" in llm.prompts[0]
