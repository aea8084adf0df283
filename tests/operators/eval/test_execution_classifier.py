"""SQLExecutionClassifier: difficulty from how many solver answers reproduce the gold result."""

from __future__ import annotations

import sqlite3

import pytest

from sqlsynth.operators.base import Reject
from sqlsynth.operators.eval import PromptSolver, SQLExecutionClassifier
from tests.operators.eval.conftest import SCHOOL_SQL

GOLD = "SELECT name FROM pupils WHERE grade > 3"
SAME = "SELECT p.name FROM pupils AS p WHERE p.grade >= 4"
WRONG = "SELECT name FROM pupils"
BROKEN = "SELECT nickname FROM pupils"


class ListSolver:
    """A solver that returns a fixed list of candidates and records its calls."""

    def __init__(self, candidates):
        self.candidates = candidates
        self.calls = []

    async def agenerate_sql(self, *, db_id, question, evidence, prompt, n):
        self.calls.append({"db_id": db_id, "question": question, "prompt": prompt, "n": n})
        return list(self.candidates[:n])


def row(sql=GOLD, db_id="school"):
    return {"db_id": db_id, "SQL": sql, "question": "Who is above grade 3?", "prompt": "P"}


@pytest.mark.parametrize(
    ("correct", "label"),
    [(0, "extra"), (2, "extra"), (3, "hard"), (5, "hard"), (6, "medium"), (9, "medium"),
     (10, "easy")],
)
def test_default_mapping_more_solved_is_easier(correct, label):
    op = SQLExecutionClassifier(None, None, solver=ListSolver([]))
    assert op.label(correct) == label


@pytest.mark.parametrize(("n_same", "label"), [(0, "extra"), (3, "hard"), (7, "medium"),
                                               (10, "easy")])
async def test_counts_matching_answers(dbm, ctx, n_same, label):
    rest = [WRONG, BROKEN, None]
    candidates = [SAME] * n_same + [rest[i % 3] for i in range(10 - n_same)]
    solver = ListSolver(candidates)
    op = SQLExecutionClassifier(None, dbm, solver=solver)
    out = await op.aprocess_row(row(), ctx)
    assert out == [{**row(), "sql_execution_difficulty": label,
                    "sql_execution_pass_rate": f"{n_same}/10"}]
    assert solver.calls == [{"db_id": "school", "question": "Who is above grade 3?",
                             "prompt": "P", "n": 10}]


async def test_ordered_gold_needs_the_same_order(dbm, ctx):
    gold = "SELECT name FROM pupils ORDER BY grade"
    candidates = ["SELECT name FROM pupils ORDER BY grade DESC", "SELECT name FROM pupils"]
    op = SQLExecutionClassifier(None, dbm, num_generations=2, difficulty_thresholds=[0],
                                difficulty_labels=["unsolved", "solved"],
                                solver=ListSolver(candidates))
    out = await op.aprocess_row(row(gold), ctx)
    assert out[0]["sql_execution_difficulty"] == "unsolved"
    op.solver = ListSolver(["SELECT name FROM pupils ORDER BY grade ASC"])
    out = await op.aprocess_row(row(gold), ctx)
    assert out[0]["sql_execution_difficulty"] == "solved"


async def test_failing_gold_is_labelled_not_graded(dbm, ctx):
    solver = ListSolver([SAME] * 10)
    op = SQLExecutionClassifier(None, dbm, solver=solver)
    out = await op.aprocess_row(row(BROKEN), ctx)
    assert out[0]["sql_execution_difficulty"] == "gold_error"
    assert solver.calls == []


async def test_results_cut_at_the_row_cap_are_never_matches(tmp_path, ctx):
    """Gold and answers are compared whole: a prefix that agrees is not the same answer."""
    from sqlsynth.db import DatabaseManager

    root = tmp_path / "capped"
    root.mkdir()
    with sqlite3.connect(root / "school.sqlite") as conn:
        conn.executescript(SCHOOL_SQL)
    capped = DatabaseManager(db_type="sqlite", config={"root_path": str(root)}, max_rows=2)
    try:
        # all three pupils, cut to two: the gold's answer is unknown, so it is not graded
        solver = ListSolver(["SELECT name FROM pupils"] * 10)
        op = SQLExecutionClassifier(None, capped, solver=solver)
        out = await op.aprocess_row(row("SELECT name FROM pupils"), ctx)
        assert out[0]["sql_execution_difficulty"] == "gold_error"
        assert solver.calls == []
        # Ben and Cat are the gold's two rows and the first two of this three-row answer
        op.solver = ListSolver(["SELECT name FROM pupils ORDER BY grade DESC"] * 10)
        out = await op.aprocess_row(row(), ctx)
        assert out[0]["sql_execution_difficulty"] == "extra"
    finally:
        capped.close()


async def test_unknown_db_and_missing_prompt(dbm, ctx, openai_server, scripted_chat):
    op = SQLExecutionClassifier(scripted_chat, dbm)
    assert (await op.aprocess_row(row(db_id="atlantis"), ctx)) == Reject(
        "unknown_db_id", "no database 'atlantis'")
    assert op.required_input_keys() == ["SQL", "db_id", "prompt"]
    out = await op.aprocess_row({"db_id": "school", "SQL": GOLD}, ctx)
    assert out.reason == "missing_field"
    assert openai_server.chat_requests == []


def test_validation():
    with pytest.raises(ValueError, match="one more label"):
        SQLExecutionClassifier(None, None, difficulty_thresholds=[1], difficulty_labels=["a"],
                               solver=ListSolver([]))
    with pytest.raises(ValueError, match="num_generations"):
        SQLExecutionClassifier(None, None, num_generations=0, solver=ListSolver([]))


async def test_prompt_solver_over_the_scripted_server(dbm, ctx, openai_server, scripted_chat):
    def responder(body):
        answers = [f"Think.\n```sql\n{SAME}\n```", f"```sql\n{WRONG}\n```", "no sql"]
        return [answers[i % 3] for i in range(body["n"])]

    openai_server.responder = responder
    op = SQLExecutionClassifier(scripted_chat, dbm, num_generations=6)
    out = await op.aprocess_row(row(), ctx)
    assert out[0]["sql_execution_difficulty"] == "extra"  # 2 of 6 correct
    (request,) = openai_server.chat_requests
    body = request["body"]
    assert body["n"] == 6 and body["temperature"] > 0
    assert body["messages"] == [{"role": "user", "content": "P"}]
    first_seed = body["seed"]
    await op.aprocess_row(row(), ctx)  # same row: same request, answered from the cache
    assert len(openai_server.chat_requests) == 1
    assert isinstance(first_seed, int)


async def test_prompt_solver_extracts_sql(openai_server, scripted_chat):
    openai_server.responder = lambda body: ["```sql\nSELECT 1;\n```", "nothing"]
    got = await PromptSolver(scripted_chat).agenerate_sql(
        db_id="x", question="q", evidence="", prompt="solve", n=2)
    assert got == ["SELECT 1", None]
