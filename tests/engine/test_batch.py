"""Question files: bounded concurrency, rows appended as they finish, resume by id."""

from __future__ import annotations

import json

import pytest

from sqlsynth.engine.batch import ask_file, ask_one, load_questions
from tests.engine.conftest import StageScript, chat_client

SQL = "SELECT COUNT(*) FROM customers"


def test_ask_file_appends_and_resumes(db_root, tmp_path, scripted):
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(json.dumps(r) for r in [
        {"id": "a", "db_id": "retail_orders", "question": "How many customers?"},
        {"id": "b", "db_id": "retail_orders", "question": "How many customers now?"},
        {"db_id": "no_such_db", "question": "Anything?"},
    ]) + "\n", encoding="utf-8")
    out = tmp_path / "out" / "answers.jsonl"
    script = StageScript({"content_keywords": []}, {}, [SQL])
    server = scripted(script)
    rows = ask_file(db_root, questions, out, llm=chat_client(server),
                    knowledge_dir=tmp_path / "k", concurrency=2)
    assert [(r["id"], r["SQL"], r["status"]) for r in rows] == [
        ("a", SQL, "ok"), ("b", SQL, "ok"), (3, None, "unknown_db")]
    assert len(out.read_text().splitlines()) == 3
    calls = sum(script.calls.values())

    lines = out.read_text().splitlines()  # lose one answer, as if the run had been killed
    lost = json.loads(lines[-1])["id"]
    out.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:10], encoding="utf-8")
    again = ask_file(db_root, questions, out, llm=chat_client(server),
                     knowledge_dir=tmp_path / "k")
    assert [r["id"] for r in again] == ["a", "b", 3]
    final = [json.loads(x) for x in out.read_text().splitlines()]
    assert sorted(str(r["id"]) for r in final) == ["3", "a", "b"]
    assert final[-1]["id"] == lost
    asked_again = sum(script.calls.values()) - calls
    assert asked_again == (0 if lost == 3 else 2)  # keywords + generation of the lost one

def test_load_questions_reports_file_line_field(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"db_id": "x", "question": "ok"}\n{"db_id": "x"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"q.jsonl:2: field 'question'"):
        load_questions(path)


def test_ask_one_picks_the_only_database(db_root, tmp_path, scripted):
    script = StageScript({"content_keywords": []}, {}, [SQL])
    answer = ask_one(db_root / "retail_orders" / "retail_orders.sqlite", "How many customers?",
                     llm=chat_client(scripted(script)), knowledge_dir=tmp_path / "k")
    assert answer.status == "ok" and answer.rows[0][0] == 700
    with pytest.raises(ValueError, match="several databases"):
        ask_one(db_root, "How many?", llm=chat_client(scripted(script)),
                knowledge_dir=tmp_path / "k")
