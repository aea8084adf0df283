"""`sqlsynth ask` from the command line, against the scripted server."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlsynth.cli import main
from sqlsynth.examples import example_db_root
from tests.engine.conftest import StageScript

COUNT = "SELECT COUNT(*) FROM customers"


def _endpoint(server, out: Path) -> list[str]:
    return ["--base-url", server.base_url, "--model", "scripted", "--embedding-model", "emb",
            "--out", str(out)]


def test_ask_one_question(tmp_path: Path, scripted, capsys: pytest.CaptureFixture[str]) -> None:
    server = scripted(StageScript({"content_keywords": []}, {}, [COUNT]))
    code = main(["ask", "--db", str(example_db_root()), "--db-id", "retail_orders",
                 *_endpoint(server, tmp_path), "How many customers are there?", "--trace"])
    out = capsys.readouterr().out
    assert code == 0
    assert COUNT in out
    assert '"attempts"' in out or '"stages"' in out or "trace" in out.lower()


def test_eval_answers_questions_with_the_engine_then_scores(tmp_path: Path, scripted) -> None:
    import json

    from sqlsynth.examples import example_file

    server = scripted(StageScript({"content_keywords": []}, {}, [COUNT]))
    report = tmp_path / "report.json"
    code = main(["eval", "--db", str(example_db_root()), "--gold",
                 str(example_file("questions.jsonl")),
                 "--questions", str(example_file("questions.jsonl")), "--json", str(report),
                 *_endpoint(server, tmp_path)])
    assert code == 0
    answers = [json.loads(line) for line in (tmp_path / "eval_answers.jsonl").read_text()
               .splitlines()]
    assert len(answers) == 12 and all(a["SQL"] == COUNT for a in answers)
    assert json.loads(report.read_text())["levels"]["all"]["count"] == 12


@pytest.mark.parametrize("rounds", [0, 1])
def test_ask_revision_rounds_come_from_the_flag(tmp_path: Path, scripted, rounds: int) -> None:
    script = StageScript({"content_keywords": []}, {}, ["SELECT nope FROM customers"])
    server = scripted(script)
    code = main(["ask", "--db", str(example_db_root()), "--db-id", "retail_orders",
                 *_endpoint(server, tmp_path), "--max-revisions", str(rounds), "Anything?"])
    assert code == 3  # the (failed) SQL is printed with its status; no answer: NO_RESULT
    assert script.calls["generate"] == 1 and script.calls["revise"] == rounds


def test_negative_revision_rounds_are_refused(tmp_path: Path, scripted,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    server = scripted(StageScript({"content_keywords": []}, {}, [COUNT]))
    code = main(["ask", "--db", str(example_db_root()), "--db-id", "retail_orders",
                 *_endpoint(server, tmp_path), "--max-revisions", "-1", "Anything?"])
    assert code == 2 and "max_revisions" in capsys.readouterr().err


def test_ask_questions_file_keeps_traces_with_the_flag(tmp_path: Path, scripted) -> None:
    import json

    from sqlsynth.examples import example_file

    server = scripted(StageScript({"content_keywords": []}, {}, [COUNT]))
    answers = tmp_path / "answers.jsonl"
    code = main(["ask", "--db", str(example_db_root()), *_endpoint(server, tmp_path),
                 "--questions", str(example_file("questions.jsonl")), "--answers", str(answers),
                 "--trace"])
    assert code == 0
    rows = [json.loads(line) for line in answers.read_text().splitlines()]
    assert len(rows) == 12
    assert all(r["trace"]["attempts"][0]["sql"] == COUNT for r in rows)


def test_ask_json_is_one_object_with_question_sql_rows_and_trace(
    tmp_path: Path, scripted, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    server = scripted(StageScript({"content_keywords": []}, {}, [COUNT]))
    code = main(["ask", "--db", str(example_db_root()), "--db-id", "retail_orders",
                 *_endpoint(server, tmp_path), "How many customers are there?", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    body = json.loads(out)  # the whole of stdout is one JSON object
    assert body["question"] == "How many customers are there?"
    assert body["sql"] == COUNT and body["status"] == "ok"
    assert isinstance(body["rows"][0][0], int) and body["columns"]
    assert body["trace"]["attempts"][0]["sql"] == COUNT


def test_ask_over_several_databases_names_the_flag(
    tmp_path: Path, scripted, capsys: pytest.CaptureFixture[str]
) -> None:
    server = scripted(StageScript({"content_keywords": []}, {}, [COUNT]))
    code = main(["ask", "--db", str(example_db_root()), *_endpoint(server, tmp_path),
                 "How many customers are there?"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--db-id" in err and "retail_orders" in err and "Traceback" not in err


def _wide_database(path: Path, tables: int = 40) -> None:
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, city TEXT)")
    conn.executemany("INSERT INTO customers VALUES (?, ?, ?)",
                     [(i, f"Customer {i}", "Springfield") for i in range(5)])
    for t in range(tables):
        columns = ", ".join(f"measurement_value_{t}_{c} TEXT" for c in range(12))
        conn.execute(f"CREATE TABLE archive_section_{t} (id INTEGER PRIMARY KEY, {columns})")
        conn.execute(f"INSERT INTO archive_section_{t} VALUES (1, "
                     + ", ".join(f"'a rather long archived text value {c}'" for c in range(12))
                     + ")")
    conn.commit()
    conn.close()


async def test_a_schema_too_long_for_the_context_is_pruned_to_the_relevant_tables(
    tmp_path: Path, scripted
) -> None:
    from sqlsynth.db import DatabaseManager
    from sqlsynth.engine import ContentAwareEngine
    from sqlsynth.prompts.fit import budget_of
    from tests.engine.conftest import chat_client

    (tmp_path / "dbs" / "wide").mkdir(parents=True)
    _wide_database(tmp_path / "dbs" / "wide" / "wide.sqlite")
    script = StageScript({"content_keywords": []}, {}, [COUNT])
    server = scripted(script)
    llm = chat_client(server)
    llm.context_window = 4096  # as the bundled local model
    dbm = DatabaseManager.from_path_or_url(str(tmp_path / "dbs"))
    engine = ContentAwareEngine(llm, dbm, knowledge_dir=tmp_path / "knowledge")
    full = dbm.render_schema_with_examples("wide")
    budget = budget_of(llm)
    assert budget is not None and budget.count(full) > budget.window  # it would not fit
    answer = await engine.aanswer("How many customers are there?", "wide")
    await engine.aclose()
    dbm.close()
    assert answer.status == "ok" and answer.rows[0][0] == 5
    assert any("schema pruned" in note for note in answer.trace.notes)
    for stage in ("keywords", "generate"):
        for messages in script.prompts[stage]:
            assert budget.messages_tokens(messages) <= budget.window
            assert "customers" in messages[-1]["content"]
