"""The command line, run in-process and as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sqlsynth.cli import main
from sqlsynth.storage import read_rows
from sqlsynth.testing import ScriptedOpenAIServer
from sqlsynth.testing.pipeline_responder import PipelineResponder

HEAVY = ("torch", "llama_cpp", "sentence_transformers", "transformers", "pymysql", "psycopg",
         "pyarrow", "openai", "sqlglot")


def test_import_is_light() -> None:
    code = (
        "import sys, sqlsynth; "
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_init_writes_scripts_and_config(tmp_path: Path) -> None:
    assert main(["init", "--dir", str(tmp_path)]) == 0
    names = {p.name for p in tmp_path.iterdir()}
    assert {"text2sql_pipeline_gen.py", "text2sql_pipeline_refine.py", "sqlsynth.toml"} <= names
    for script in ("text2sql_pipeline_gen.py", "text2sql_pipeline_refine.py"):
        compile((tmp_path / script).read_text(), script, "exec")
    # a second init refuses to overwrite edits
    assert main(["init", "--dir", str(tmp_path)]) == 2


def test_schema_dump_of_bundled_databases(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    out = capsys.readouterr().out
    for db_id in ("retail_orders", "hospital_admissions", "regional_economy"):
        assert f"database: {db_id}" in out


def _generate_args(out: Path, server: ScriptedOpenAIServer) -> list[str]:
    return ["--out", str(out), "--base-url", server.base_url, "--model", "scripted",
            "--embedding-model", "scripted-emb", "--question-candidates", "2",
            "--cot-samples", "2", "--execution-generations", "3"]


def test_generate_then_export(tmp_path: Path) -> None:
    with ScriptedOpenAIServer(PipelineResponder()) as server:
        out = tmp_path / "run"
        assert main(["generate", "--num", "2", *_generate_args(out, server)]) == 0
    final = read_rows(out / "final.jsonl")
    assert final
    for fmt in ("jsonl", "parquet", "llamafactory-sharegpt"):
        target = tmp_path / f"export-{fmt}"
        assert main(["export", "--input", str(out), "--format", fmt, "--out", str(target)]) == 0
        assert target.exists()


def test_refine_bad_input_names_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        json.dumps({"db_id": "retail_orders", "SQL": "SELECT 1"}) + "\n"
        + json.dumps({"db_id": "retail_orders"}) + "\n"
    )
    with ScriptedOpenAIServer(PipelineResponder()) as server:
        code = main(["refine", "--input", str(rows), *_generate_args(tmp_path / "r", server)])
    err = capsys.readouterr().err
    assert code == 2
    assert "rows.jsonl:2" in err and "'SQL'" in err


def test_refine_malformed_json_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"db_id": "retail_orders", "SQL": "SELECT 1"}\n{"db_id": oops}\n')
    with ScriptedOpenAIServer(PipelineResponder()) as server:
        code = main(["refine", "--input", str(rows), *_generate_args(tmp_path / "r", server)])
    err = capsys.readouterr().err
    assert code == 2 and "rows.jsonl:2" in err


def test_unreachable_endpoint_fails_fast_with_one_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["generate", "--num", "1", "--out", str(tmp_path), "--base-url",
                 "http://127.0.0.1:9/v1", "--model", "m"])
    err = capsys.readouterr().err
    assert code == 5  # LLM_UNAVAILABLE: found by the preflight, before any work
    assert "127.0.0.1:9" in err


def test_init_scripts_run_as_written(tmp_path: Path) -> None:
    """The scaffolded scripts are real pipelines: point the config at an endpoint and run."""
    assert main(["init", "--dir", str(tmp_path)]) == 0
    config = tmp_path / "sqlsynth.toml"
    with ScriptedOpenAIServer(PipelineResponder()) as server:
        text = config.read_text()
        for key, value in {"base_url": f'"{server.base_url}"', "generate_num": "2",
                           "question_candidates": "2", "cot_samples": "2",
                           "execution_generations": "2", "out": '"run"'}.items():
            text = "\n".join(f"{key} = {value}" if line.startswith(f"{key} =") else line
                             for line in text.splitlines())
        config.write_text(text + "\n")
        proc = subprocess.run([sys.executable, "text2sql_pipeline_gen.py"], cwd=tmp_path, check=False,
                              capture_output=True, text=True, timeout=300,
                              env={**os.environ, "SQLSYNTH_PROGRESS": "0"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert list((tmp_path / "run").glob("sqlsynth_step9.jsonl"))


def test_export_of_a_missing_input_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "export.jsonl"
    code = main(["export", "--input", str(tmp_path / "no-such-run"), "--format", "jsonl",
                 "--out", str(target)])
    assert code == 2
    assert "no-such-run" in capsys.readouterr().err
    assert not target.exists()


@pytest.mark.parametrize("scheme", ["mysql", "postgresql"])
def test_unreachable_database_server_is_one_line(
    scheme: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.servers import free_port

    url = f"{scheme}://reader:s3cretpw@127.0.0.1:{free_port()}/"
    code = main(["generate", "--num", "1", "--out", str(tmp_path), "--db", url])
    err = capsys.readouterr().err
    assert code == 4  # DATABASE_UNAVAILABLE
    assert "cannot connect to" in err and "as reader" in err
    assert "Traceback" not in err and "s3cretpw" not in err
    assert "run summary" not in err  # nothing ran: no empty table above the error


def test_embedding_endpoint_flag_and_local_embeddings_beside_a_chat_endpoint() -> None:
    from sqlsynth.cli import build_parser
    from sqlsynth.config import RunConfig
    from sqlsynth.factory import make_embedding_model
    from sqlsynth.llm import LocalEmbeddings, OpenAIEmbeddings

    args = build_parser().parse_args(
        ["generate", "--base-url", "http://127.0.0.1:9/v1", "--embedding-base-url", "local"])
    assert args.embedding_base_url == "local"
    chat_only = RunConfig(base_url="http://127.0.0.1:9/v1", embedding_base_url="local",
                          llm_cache=False)
    assert isinstance(make_embedding_model(chat_only), LocalEmbeddings)
    split = RunConfig(base_url="http://127.0.0.1:9/v1", embedding_base_url="http://127.0.0.1:8/v1",
                      llm_cache=False)
    model = make_embedding_model(split)
    assert isinstance(model, OpenAIEmbeddings) and "127.0.0.1:8" in str(model.base_url)
