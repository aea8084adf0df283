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
