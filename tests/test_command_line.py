"""The command line, run in-process and as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sqlsynth.cli import main
from sqlsynth.errors import ExitCode
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
    return ["--out", str(out), "--base-url", server.base_url, "--model", server.model_name,
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
    assert code == ExitCode.LLM_UNAVAILABLE  # the agreed exit code of a dead endpoint
    assert "127.0.0.1:9" in err
    assert err.count("127.0.0.1:9") == 1, "the error is printed once"


def test_init_scripts_run_as_written(tmp_path: Path) -> None:
    """The scaffolded scripts are real pipelines: point the config at an endpoint and run."""
    assert main(["init", "--dir", str(tmp_path)]) == 0
    config = tmp_path / "sqlsynth.toml"
    with ScriptedOpenAIServer(PipelineResponder()) as server:
        text = config.read_text()
        for key, value in {"base_url": f'"{server.base_url}"', "generate_num": "2",
                           "question_candidates": "2", "cot_samples": "2",
                           "execution_generations": "2"}.items():
            text = "\n".join(f"{key} = {value}" if line.startswith(f"{key} =") else line
                             for line in text.splitlines())
        config.write_text(text.replace('out = "./cache"', 'out = "run"') + "\n")
        proc = subprocess.run([sys.executable, "text2sql_pipeline_gen.py"], cwd=tmp_path, check=False,
                              capture_output=True, text=True, timeout=300,
                              env={**os.environ, "SQLSYNTH_PROGRESS": "0"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert list((tmp_path / "run").glob("sqlsynth_step9.jsonl"))
    # like `generate`: the summary, and final.jsonl for the README's next command (export)
    assert "run summary" in proc.stderr
    assert read_rows(tmp_path / "run" / "final.jsonl")
    assert main(["export", "--input", str(tmp_path / "run"), "--format", "jsonl",
                 "--out", str(tmp_path / "export.jsonl")]) == 0


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
    assert code == ExitCode.DATABASE_UNAVAILABLE  # the agreed exit code
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


# ---- issue 13: a CLI that composes, one run per folder, inputs as users have them ----------

def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "sqlsynth.cli", *args]


def test_closed_pipe_is_no_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        ["bash", "-o", "pipefail", "-c",
         " ".join(_cli("schema", "--format", "inserts")) + " | head -1"],
        check=False, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("-- database:")
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


def test_pipe_safe_stdout_stops_writing_quietly() -> None:
    from sqlsynth.cli.app import _PipeSafeStream

    class Closed:
        writes = 0

        def write(self, text: str) -> int:
            Closed.writes += 1
            raise BrokenPipeError

        def flush(self) -> None:
            raise BrokenPipeError

    stream = _PipeSafeStream(Closed())
    assert stream.write("a") == 1 and stream.write("bc") == 2
    stream.flush()
    assert stream.closed_by_reader and Closed.writes == 1


def test_generate_into_a_closed_pipe_still_writes_final_rows(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with ScriptedOpenAIServer(PipelineResponder()) as server:
        command = " ".join(_cli("generate", "--num", "2", *_generate_args(out, server)))
        proc = subprocess.run(["bash", "-c", f"{command} | head -c 0"], check=False,
                              capture_output=True,
                              text=True, timeout=300,
                              env={**os.environ, "SQLSYNTH_PROGRESS": "0",
                                   "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert read_rows(out / "final.jsonl")


def test_a_run_folder_is_refused_to_another_command_and_resumed_by_its_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlsynth.examples import example_file

    out = tmp_path / "run"
    with ScriptedOpenAIServer(PipelineResponder()) as server:
        refine = ["refine", "--input", str(example_file("refine_input.jsonl")),
                  "--variations", "1", *_generate_args(out, server)]
        assert main(refine) == 0
        before = (out / "final.jsonl").read_bytes()
        capsys.readouterr()
        code = main(["generate", "--num", "2", *_generate_args(out, server)])
        err = capsys.readouterr().err
        assert code == 2
        assert "sqlsynth refine" in err and "another --out" in err
        assert (out / "final.jsonl").read_bytes() == before  # nothing was touched
        # other databases in the same folder are another run, too
        assert main([*refine, "--db-id", "retail_orders"]) == 2
        # the same command resumes: no new chat request
        requests = len(server.chat_requests)
        assert main(refine) == 0
        assert len(server.chat_requests) == requests
    assert (out / "final.jsonl").read_bytes() == before


def test_commands_have_their_own_default_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlsynth.cli.parser import _config, build_parser

    monkeypatch.chdir(tmp_path)
    outs = {command: _config(build_parser().parse_args([command, *extra])).out
            for command, extra in (("generate", []), ("refine", ["--input", "x"]),
                                   ("ask", ["--db", "d", "q"]), ("eval", ["--db", "d",
                                                                          "--gold", "g"]))}
    assert len(set(outs.values())) == 4


def _spider_rows(tmp_path: Path, sql_key: str = "query") -> Path:
    rows = [
        {"db_id": "retail_orders", sql_key: "SELECT COUNT(*) FROM customers",
         "question": "How many customers are there?", "query_toks": ["SELECT"],
         "sql": {"select": [False, []]}},
        {"db_id": "retail_orders", sql_key: "SELECT name FROM customers",
         "question": "Name every customer.", "sql": {"select": [False, []]}},
    ]
    path = tmp_path / "train_spider.json"
    path.write_text(json.dumps(rows, indent=2))
    return path


def test_refine_reads_a_spider_file_as_it_is(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    source = _spider_rows(tmp_path)
    out = tmp_path / "run"
    with ScriptedOpenAIServer(PipelineResponder()) as server:
        code = main(["refine", "--input", str(source), "--variations", "1",
                     *_generate_args(out, server)])
    assert code == 0, capsys.readouterr().err
    assert "reading field 'query' as 'SQL'" in capsys.readouterr().err
    final = read_rows(out / "final.jsonl")
    assert final and all(r["SQL"] for r in final)
    # Spider's own keys never contradict the refined row (issue 21)
    for row in final:
        assert row.get("query", row["SQL"]) == row["SQL"]
        if row.get("sql_variation_type"):
            assert not {"query_toks", "sql", "question_toks"} & set(row)
    exported = tmp_path / "export.jsonl"
    assert main(["export", "--input", str(out), "--format", "jsonl", "--out", str(exported)]) == 0
    assert all(r.get("query", r["SQL"]) == r["SQL"] for r in read_rows(exported))


def test_refine_field_mapping_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _spider_rows(tmp_path, sql_key="gold_sql")
    with ScriptedOpenAIServer(PipelineResponder()) as server:
        args = _generate_args(tmp_path / "r1", server)
        assert main(["refine", "--input", str(source), *args]) == 2
        assert "--map FIELD=SQL" in capsys.readouterr().err
        args = _generate_args(tmp_path / "r2", server)
        assert main(["refine", "--input", str(source), "--variations", "1",
                     "--map", "gold_sql=SQL", *args]) == 0
    final = read_rows(tmp_path / "r2" / "final.jsonl")
    # the mapped field is read as SQL and not left beside it to go stale
    assert final and not any("gold_sql" in r for r in final)
    assert "the output names it 'SQL' only" in capsys.readouterr().err


def test_exporting_zero_rows_warns_and_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "final.jsonl").write_text("")
    code = main(["export", "--input", str(run), "--format", "jsonl",
                 "--out", str(tmp_path / "x.jsonl")])
    assert code == ExitCode.NO_RESULT
    assert "exported 0 rows" in capsys.readouterr().err


def test_generate_with_stderr_into_a_closed_pipe_exits_0_with_its_report(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with ScriptedOpenAIServer(PipelineResponder()) as server:
        command = " ".join(_cli("generate", "--num", "2", *_generate_args(out, server)))
        proc = subprocess.run(["bash", "-o", "pipefail", "-c", f"{command} 2>&1 | head -2"],
                              check=False, capture_output=True, text=True, timeout=300,
                              env={**os.environ, "SQLSYNTH_PROGRESS": "0",
                                   "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert (out / "report.html").is_file() and read_rows(out / "final.jsonl")


def test_refine_rows_that_all_name_unknown_databases_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"db_id": "concert_singer", "SQL": "SELECT 1"}) + "\n")
    with ScriptedOpenAIServer(PipelineResponder()) as server:
        code = main(["refine", "--input", str(rows), *_generate_args(tmp_path / "r", server)])
        assert not server.chat_requests
    err = capsys.readouterr().err
    assert code == 2
    assert "concert_singer" in err and "retail_orders" in err and "rows.jsonl" in err


def test_zero_final_rows_is_a_warning_and_exit_code_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"db_id": "retail_orders", "SQL": "SELECT nope FROM nowhere"})
                    + "\n")
    with ScriptedOpenAIServer(PipelineResponder()) as server:
        code = main(["refine", "--input", str(rows), *_generate_args(tmp_path / "r", server)])
    assert code == 3
    assert "0 final rows" in capsys.readouterr().err


def test_empty_databases_are_skipped_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil
    import sqlite3

    from sqlsynth.examples import example_db_root

    root = tmp_path / "dbs"
    shutil.copytree(example_db_root() / "retail_orders", root / "retail_orders")
    (root / "blank").mkdir()
    sqlite3.connect(root / "blank" / "blank.sqlite").execute(
        "CREATE TABLE t (a INTEGER)").connection.close()
    out = tmp_path / "run"
    with ScriptedOpenAIServer(PipelineResponder()) as server:
        assert main(["generate", "--db", str(root), "--num", "2",
                     *_generate_args(out, server)]) == 0
    assert "skipping database 'blank'" in capsys.readouterr().err
    assert {r["db_id"] for r in read_rows(out / "final.jsonl")} == {"retail_orders"}


def test_views_are_listed_in_the_schema_and_queryable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    from sqlsynth.db import DatabaseManager

    (tmp_path / "shop").mkdir()
    conn = sqlite3.connect(tmp_path / "shop" / "shop.sqlite")
    conn.executescript("CREATE TABLE item (id INTEGER PRIMARY KEY, price REAL);"
                       "INSERT INTO item VALUES (1, 2.5), (2, 10.0);"
                       "CREATE VIEW dear_item AS SELECT id, price FROM item WHERE price > 5;")
    conn.close()
    assert main(["schema", "--db", str(tmp_path), "--format", "create"]) == 0
    assert "dear_item" in capsys.readouterr().out
    manager = DatabaseManager.from_path_or_url(str(tmp_path))
    table = manager.get_schema("shop").table("dear_item")
    assert table is not None and [c.name for c in table.columns] == ["id", "price"]
    assert "view" in (table.comment or "")
    assert list(manager.execute("shop", "SELECT COUNT(*) FROM dear_item").rows) == [(1,)]
    manager.close()


def test_ctrl_c_says_so_at_once_and_a_second_one_quits(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlsynth.cli import app as cli

    exits: list[int] = []
    monkeypatch.setattr(cli.os, "_exit", exits.append)
    cli._on_interrupt.seen = False  # type: ignore[attr-defined]
    with pytest.raises(KeyboardInterrupt):
        cli._on_interrupt(2, None)
    assert "interrupted" in capsys.readouterr().err  # before any model call finishes
    cli._on_interrupt(2, None)
    assert exits == [130]


@pytest.mark.slow
def test_a_big_schema_fits_the_local_models_context(tmp_path: Path) -> None:
    """The issue's crash: `ask` on a schema longer than the 4096-token local context. The
    engine's prompt, fitted with the model's own tokenizer, is accepted by llama.cpp."""
    from sqlsynth.db import DatabaseManager
    from sqlsynth.engine import ContentAwareEngine, prompts
    from sqlsynth.engine.trace import Trace
    from sqlsynth.llm import LocalChat
    from sqlsynth.prompts.fit import budget_of
    from tests.engine.test_ask_command import _wide_database

    (tmp_path / "dbs" / "wide").mkdir(parents=True)
    _wide_database(tmp_path / "dbs" / "wide" / "wide.sqlite", tables=60)
    dbm = DatabaseManager.from_path_or_url(str(tmp_path / "dbs"))
    llm = LocalChat(cache=None, max_tokens=1)
    engine = ContentAwareEngine(llm, dbm, knowledge_dir=tmp_path / "knowledge")
    budget = budget_of(llm)
    assert budget is not None
    assert llm.count_tokens(dbm.render_schema_with_examples("wide")) > llm.context_window
    trace = Trace("How many customers are there?", "wide")
    schema, text = engine._fitted_schema(trace.question, "", dbm.get_schema("wide"), trace)
    assert "customers" in schema.table_names and any("pruned" in n for n in trace.notes)
    messages = prompts.generate_messages(question=trace.question, evidence="",
                                         engine="SQLite", schema_text=text, foreign_keys="",
                                         knowledge=[], hints=[])
    assert budget.fits(messages)
    assert len(llm.chat(messages)) == 1  # llama.cpp takes the prompt: no context error
    dbm.close()


def test_library_modules_never_import_the_cli_package() -> None:
    """Lower layers never import higher ones: only the cli package (and the test helpers that
    run it) may name ``sqlsynth.cli``; the ``init`` templates are user scripts, not library
    modules, and run as the command does."""
    import re

    package = Path(__file__).resolve().parents[1] / "sqlsynth"
    importers = [str(p.relative_to(package)) for p in package.rglob("*.py")
                 if p.relative_to(package).parts[0] not in ("cli", "testing", "templates")
                 and re.search(r"from sqlsynth\.cli\b|import sqlsynth\.cli\b|"
                               r"from sqlsynth import cli\b", p.read_text(encoding="utf-8"))]
    assert importers == []


def _scaffold_for(tmp_path: Path, server: ScriptedOpenAIServer, **values: str) -> None:
    assert main(["init", "--dir", str(tmp_path)]) == 0
    config = tmp_path / "sqlsynth.toml"
    settings = {"base_url": f'"{server.base_url}"', "model": f'"{server.model_name}"',
                "embedding_model": '"scripted-emb"', "generate_num": "2",
                "num_variations": "1", "question_candidates": "2", "cot_samples": "2",
                "execution_generations": "2", **values}
    lines = [line for line in config.read_text().splitlines()
             if line.partition(" =")[0] not in settings]
    config.write_text("\n".join([*lines, *(f"{k} = {v}" for k, v in settings.items())]) + "\n")


def _script(tmp_path: Path, name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, name], cwd=tmp_path, check=False,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "SQLSYNTH_PROGRESS": "0",
                               "PYTHONPATH": str(Path(__file__).resolve().parents[1])})


def test_init_scripts_behave_like_the_commands(tmp_path: Path) -> None:
    """issue 21: the refine script reads the Spider file `refine` reads, field_map is --map,
    both run the preflight and keep their own run folders."""
    source = _spider_rows(tmp_path, sql_key="gold_sql")
    with ScriptedOpenAIServer(PipelineResponder()) as server:
        _scaffold_for(tmp_path, server, input=json.dumps(str(source)),
                      field_map='["gold_sql=SQL"]')
        gen = _script(tmp_path, "text2sql_pipeline_gen.py")
        before = (tmp_path / "cache" / "final.jsonl").read_bytes()
        shared = _script(tmp_path, "text2sql_pipeline_refine.py")  # same out: refused
        config = tmp_path / "sqlsynth.toml"
        config.write_text(config.read_text().replace('out = "./cache"', 'out = "cache_refine"'))
        refine = _script(tmp_path, "text2sql_pipeline_refine.py")
    assert gen.returncode == 0, gen.stderr[-2000:]
    assert shared.returncode == 2 and "another --out" in shared.stderr
    assert (tmp_path / "cache" / "final.jsonl").read_bytes() == before
    assert refine.returncode == 0, refine.stderr[-2000:]
    for proc in (gen, refine):
        assert "endpoint ok: chat" in proc.stderr and "Traceback" not in proc.stderr
    assert json.loads((tmp_path / "cache_refine" / "sqlsynth_run.json").read_text())[
        "command"] == "refine"
    assert read_rows(tmp_path / "cache_refine" / "final.jsonl")
    assert (tmp_path / "cache_refine" / "report.html").is_file()


def test_init_script_errors_are_one_line_with_the_exit_code(tmp_path: Path) -> None:
    with ScriptedOpenAIServer(PipelineResponder()) as server:
        _scaffold_for(tmp_path, server)
    proc = _script(tmp_path, "text2sql_pipeline_gen.py")  # the server is gone: preflight
    assert proc.returncode == ExitCode.LLM_UNAVAILABLE, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr


def test_ctrl_c_inside_a_running_loop_stops_it_between_tasks(
    capsys: pytest.CaptureFixture[str]
) -> None:
    """Raised inside a task's step, the KeyboardInterrupt would end that task ("Task exception
    was never retrieved" at exit); from a loop callback it stops the loop and no task has it."""
    import asyncio

    from sqlsynth.cli import app as cli

    tasks: list[asyncio.Task] = []

    async def run() -> None:
        async def step() -> None:
            cli._on_interrupt(2, None)  # Ctrl-C arrives while this task runs: no raise here
            await asyncio.sleep(10)

        tasks.append(asyncio.ensure_future(step()))
        await asyncio.sleep(10)

    cli._on_interrupt.seen = False  # type: ignore[attr-defined]
    with pytest.raises(KeyboardInterrupt):
        asyncio.run(run())
    assert tasks[0].cancelled()
    assert "interrupted" in capsys.readouterr().err


@pytest.mark.slow
def test_ctrl_c_with_the_local_model_stops_promptly_and_the_run_resumes(tmp_path: Path) -> None:
    """A real `sqlsynth generate` on the local model, interrupted while the model works: exit
    130 with the resume line and no traceback, soon (no wait for the answer or llama.cpp's
    shutdown), and the same command runs again in the same folder."""
    import signal
    import time

    pytest.importorskip("llama_cpp")
    out = tmp_path / "run"
    # the model writes the SQL: the no-key default (sampled SQL, canonical texts) asks no model
    command = [sys.executable, "-m", "sqlsynth.cli", "generate", "--num", "2", "--sql-source",
               "llm", "--question-source", "llm", "--cot-source", "llm", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}

    def interrupted(after: float) -> tuple[int, str, float]:
        proc = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        # interrupt once the run has started its steps (the model loads, then generates)
        while not (out / "sqlsynth_run.json").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(after)
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=60)
        finally:
            proc.kill()
        waited = time.monotonic() - sent
        return code, proc.stderr.read() if proc.stderr else "", waited

    code, err, waited = interrupted(6.0)
    assert code == ExitCode.INTERRUPTED, err[-2000:]
    assert "rerun the same command to resume" in err
    assert "Traceback" not in err and "never retrieved" not in err, err[-3000:]
    assert waited < 20, f"hang guard: {waited:.1f} s after Ctrl-C (it was 42 s)"
    code, err, _ = interrupted(3.0)  # the rerun is accepted in the same folder
    assert code == ExitCode.INTERRUPTED and "Traceback" not in err, err[-2000:]
