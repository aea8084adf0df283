"""Bad input: a clear message naming what to fix, a non-zero exit, nothing already done lost."""

from __future__ import annotations

import contextlib
import io
import json
import math
import sys
import tracemalloc
from pathlib import Path

import pytest

from sqlsynth.cli import main
from sqlsynth.errors import ExitCode, InputFormatError, MissingDependencyError
from sqlsynth.examples import example_file
from sqlsynth.redaction import redact_secrets
from sqlsynth.storage import read_rows, write_rows_atomic
from sqlsynth.storage.formats import read_numbered_rows, strict_json
from sqlsynth.storage.rejects import RejectsLog
from sqlsynth.testing import ScriptedOpenAIServer
from sqlsynth.testing.pipeline_responder import PipelineResponder

SIZES = ["--question-candidates", "2", "--cot-samples", "2", "--execution-generations", "2",
         "--variations", "1", "--concurrency", "4"]


@pytest.fixture(scope="module")
def server():
    with ScriptedOpenAIServer(PipelineResponder()) as srv:
        yield srv


def run(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, err.getvalue()


def refine(server, input_path: Path, out: Path, *extra: str) -> tuple[int, str]:
    return run("refine", "--input", str(input_path), "--out", str(out), "--base-url",
               server.base_url, "--model", "m", "--embedding-model", "e", *SIZES, *extra)


def one_error_line(text: str) -> str:
    lines = [line for line in text.splitlines() if ": error:" in line]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def strict_loads(text: str):
    def refuse(name: str):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def finished_run(tmp_path, server) -> Path:
    """A refine run that finished; a later bad invocation must not lose any of it."""
    out = tmp_path / "run"
    code, err = refine(server, example_file("refine_input.jsonl"), out)
    assert code == ExitCode.OK, err
    return out


def _snapshot(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())
            if p.is_file() and not p.name.startswith("llm_cache")}


def test_empty_refine_input(tmp_path, server, finished_run):
    before = _snapshot(finished_run)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n  \n")
    code, err = refine(server, empty, finished_run)
    assert code == ExitCode.USAGE
    line = one_error_line(err)
    assert "empty.jsonl" in line and "no rows" in line
    assert _snapshot(finished_run) == before


@pytest.mark.parametrize("content", [b"a,b\n1,2\n", b"\x00" * 100, b"SQLite format 2\x00junk"])
def test_non_database_file_as_db(tmp_path, server, finished_run, content):
    before = _snapshot(finished_run)
    notes = tmp_path / "notes.csv"
    notes.write_bytes(content)
    code, err = run("generate", "--num", "1", "--db", str(notes), "--out", str(finished_run),
                    "--base-url", server.base_url, "--model", "m")
    assert code == ExitCode.USAGE
    line = one_error_line(err)
    assert "notes.csv" in line and "not an SQLite database" in line
    assert _snapshot(finished_run) == before


def test_unterminated_csv_quote_names_the_line(tmp_path, server, finished_run):
    before = _snapshot(finished_run)
    bad = tmp_path / "rows.csv"
    bad.write_text('db_id,SQL\nretail_orders,SELECT 1\nretail_orders,"SELECT 2\n'
                   'retail_orders,SELECT 3\n')
    code, err = refine(server, bad, finished_run)
    assert code == ExitCode.USAGE
    line = one_error_line(err)
    assert "rows.csv:3" in line and "never closed" in line
    assert _snapshot(finished_run) == before


def test_parquet_without_pyarrow_names_the_extra(tmp_path, server, monkeypatch):
    pytest.importorskip("pyarrow")
    data = tmp_path / "rows.parquet"
    write_rows_atomic(data, [{"db_id": "retail_orders", "SQL": "SELECT 1"}], "parquet")
    for name in [m for m in sys.modules if m == "pyarrow" or m.startswith("pyarrow.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow -> ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(MissingDependencyError, match=r"extra 'parquet'\): .*parquet"):
        read_rows(data)
    code, err = refine(server, data, tmp_path / "o")
    assert code == ExitCode.USAGE
    line = one_error_line(err)
    assert "(extra 'parquet'): " in line and "setup_venv.sh parquet" in line and "pyarrow" in line


def test_oversize_jsonl_line_is_an_error_with_bounded_memory(tmp_path):
    big = tmp_path / "big.jsonl"
    with big.open("w") as handle:
        handle.write('{"db_id": "a", "SQL": "SELECT 1"}\n')
        handle.write('{"db_id": "a", "SQL": "' + "x" * (32 << 20) + '"}\n')
    tracemalloc.start()
    try:
        with pytest.raises(InputFormatError, match="longer than max_line_bytes") as info:
            read_numbered_rows(big, max_line_bytes=1 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.line == 2 and "big.jsonl:2" in str(info.value)
    assert peak < 8 << 20, f"reading stopped at the limit, not the 32 MB line ({peak} bytes)"


def test_oversize_line_through_the_command_line(tmp_path, server, finished_run):
    before = _snapshot(finished_run)
    big = tmp_path / "big.jsonl"
    big.write_text('{"db_id": "retail_orders", "SQL": "SELECT ' + "1" * 5000 + '"}\n')
    code, err = refine(server, big, finished_run, "--max-line-bytes", "1000")
    assert code == ExitCode.USAGE
    line = one_error_line(err)
    assert "big.jsonl:1" in line and "max_line_bytes=1000" in line
    assert _snapshot(finished_run) == before


def test_oversize_csv_field_is_an_error(tmp_path):
    big = tmp_path / "big.csv"
    big.write_text('db_id,SQL\na,"SELECT ' + "1\n" * 3000 + '"\n')
    with pytest.raises(InputFormatError, match="max_line_bytes=1000") as info:
        read_numbered_rows(big, max_line_bytes=1000)
    assert info.value.line == 2


def test_non_finite_numbers_are_written_as_null(tmp_path):
    rows = [{"a": math.nan, "b": [math.inf, 1.5], "c": {"d": -math.inf}}]
    for fmt in ("jsonl", "json"):
        path = tmp_path / f"rows.{fmt}"
        write_rows_atomic(path, rows, fmt)
        text = path.read_text()
        assert "NaN" not in text and "Infinity" not in text
        loaded = strict_loads(text.splitlines()[0]) if fmt == "jsonl" else strict_loads(text)[0]
        assert loaded == {"a": None, "b": [None, 1.5], "c": {"d": None}}
    assert strict_json({"x": math.nan}) == '{"x": null}'
    log = RejectsLog(tmp_path / "rejects.jsonl")
    log.start(1)
    log.add(1, "Step", (0,), "r", "", {"x": math.inf})
    log.finish()
    strict_loads((tmp_path / "rejects.jsonl").read_text())


def test_nan_in_the_input_reaches_final_as_null(tmp_path, server):
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"db_id": "retail_orders", "SQL": "SELECT COUNT(*) FROM customers", '
                    '"score": NaN, "weights": [Infinity, 1]}\n')
    out = tmp_path / "o"
    code, err = refine(server, rows, out)
    assert code in (ExitCode.OK, ExitCode.NO_RESULT), err
    for path in [out / "final.jsonl", *out.glob("*.jsonl")]:
        for line in path.read_text().splitlines():
            strict_loads(line)  # every output file is RFC 8259 JSON


@pytest.mark.parametrize(
    "url",
    ["foo://reader:Sup3rSecretPw@db.example:5432/x",
     "mysql://reader:Sup3rSecretPw@127.0.0.1:notaport/x",
     "postgresql://reader:Sup3rSecretPw@127.0.0.1:5432/x?bogus=1"],
)
def test_database_url_errors_never_show_the_password(tmp_path, url, finished_run):
    before = _snapshot(finished_run)
    code, err = run("generate", "--num", "1", "--db", url, "--out", str(finished_run),
                    "--base-url", "http://127.0.0.1:9/v1", "--model", "m")
    assert code == ExitCode.USAGE, err
    one_error_line(err)
    assert "Sup3rSecretPw" not in err
    assert _snapshot(finished_run) == before


def test_endpoint_url_with_credentials_is_masked(tmp_path):
    code, err = run("generate", "--num", "1", "--out", str(tmp_path / "o"),
                    "--base-url", "http://user:Sup3rSecretPw@127.0.0.1:99999/v1", "--model", "m")
    assert code == ExitCode.USAGE
    assert "Sup3rSecretPw" not in err and "127.0.0.1" in one_error_line(err)


def test_redaction_of_keys_and_url_passwords():
    text = ("mysql://bob:p@ss/w0rd@host/db api_key=sk-abcdef123456 "
            "Authorization: Bearer sk-abcdefghijkl password='hunter2'")
    masked = redact_secrets(text, secrets=("w0rd",))
    for secret in ("p@ss", "w0rd", "sk-abcdef123456", "sk-abcdefghijkl", "hunter2"):
        assert secret not in masked


def test_temp_files_of_an_interrupted_write_are_removed(tmp_path, server, finished_run):
    leftovers = [finished_run / ".sqlsynth_step3.jsonl.k2j3h4.tmp", finished_run / "final.tmp"]
    for path in leftovers:
        path.write_bytes(b"half a file")
    before = (finished_run / "final.jsonl").read_bytes()
    code, err = refine(server, example_file("refine_input.jsonl"), finished_run)
    assert code == ExitCode.OK, err
    assert not any(p.exists() for p in leftovers)
    assert (finished_run / "final.jsonl").read_bytes() == before


def test_internal_error_traceback_masks_secrets(monkeypatch):
    from sqlsynth.cli import commands

    def broken(args, make_config):
        raise RuntimeError("lost connection to mysql://reader:Sup3rSecretPw@db:3306/x "
                           "with api_key=sk-live-0123456789")

    monkeypatch.setattr(commands, "cmd_schema", broken)
    code, err = run("schema")
    assert code == ExitCode.ERROR
    assert "Traceback" in err and "RuntimeError" in err
    assert "Sup3rSecretPw" not in err and "sk-live-0123456789" not in err


def test_oversize_json_array_item_is_an_error(tmp_path):
    big = tmp_path / "big.json"
    big.write_text('[{"db_id": "a", "SQL": "SELECT 1"},\n {"db_id": "a", "SQL": "'
                   + "x" * 5000 + '"}]')
    with pytest.raises(InputFormatError, match="max_line_bytes=1000") as info:
        read_numbered_rows(big, max_line_bytes=1000)
    assert info.value.line == 2
