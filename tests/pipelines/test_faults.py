"""The fault-injection suite: ``sqlsynth generate`` against a misbehaving scripted endpoint.

Every scenario is judged against one clean run: the final rows must be byte-identical (in one
invocation when the endpoint recovers by itself, or after reruns when the run had to stop
incomplete), no answered call may be paid for twice, and the exit codes are the agreed ones.
"""

from __future__ import annotations

import contextlib
import io
import random
from pathlib import Path

import pytest

from sqlsynth.errors import ExitCode
from sqlsynth.testing import ScriptedOpenAIServer
from sqlsynth.testing.fake_openai import TRANSPORT_FAULTS
from sqlsynth.testing.fault_runs import (
    final_bytes,
    generate_argv,
    repaid,
    run_in_process,
    run_killed,
)
from sqlsynth.testing.pipeline_responder import PipelineResponder

WAITING = "waiting on the LLM endpoint; rerun the same command to continue"
# outage timings scaled down so the suite stays fast; one real 60 s outage is marked slow
FAST_OUTAGE = ('outage_after_failures = 4\noutage_probe_delay = 0.2\n'
               'outage_max_probe_delay = 0.5\n')


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The reference: the same run against a faultless endpoint."""
    out = tmp_path_factory.mktemp("clean") / "run"
    with ScriptedOpenAIServer(PipelineResponder()) as server:
        run = run_in_process(generate_argv(out, server), server)
    assert run.code == ExitCode.OK, run.stderr
    data = final_bytes(out)
    assert data and data.count(b"\n") > 0
    return {"final": data, "seconds": run.seconds, "requests": len(run.records)}


@pytest.fixture
def server():
    with ScriptedOpenAIServer(PipelineResponder()) as srv:
        yield srv


def _config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "sqlsynth.toml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("kind", [*TRANSPORT_FAULTS, "all"])
def test_transport_faults_at_20_percent_change_nothing(tmp_path, server, clean, kind):
    kinds = TRANSPORT_FAULTS if kind == "all" else (kind,)
    server.fault_rate(0.2, kinds, seed=7)
    out = tmp_path / "run"
    run = run_in_process(generate_argv(out, server), server)
    assert run.code == ExitCode.OK, run.stderr
    assert any(r["fault"] for r in run.records), "the faults were injected"
    assert final_bytes(out) == clean["final"]


def test_null_and_empty_completions_are_retried_never_cached(tmp_path, server, clean):
    server.fault_rate(0.3, ("null_content", "empty_content"), seed=3)
    out = tmp_path / "run"
    run = run_in_process(generate_argv(out, server), server)
    assert run.code == ExitCode.OK, run.stderr
    assert final_bytes(out) == clean["final"]
    import sqlite3

    with sqlite3.connect(out / "llm_cache.sqlite") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            cols = [c[1] for c in db.execute(f"PRAGMA table_info({table})")]
            for col in cols:
                empty = db.execute(
                    f"SELECT count(*) FROM {table} WHERE typeof({col}) = 'text' "
                    f"AND trim({col}) = ''").fetchone()[0]
                assert empty == 0, f"an empty answer was cached in {table}.{col}"


def test_null_completions_beyond_retries_leave_rows_waiting(tmp_path, server, clean):
    """An endpoint that answers null for a while: rows wait (exit 75), the rerun finishes."""
    cfg = _config(tmp_path, FAST_OUTAGE + "max_outage = 0.5\n")
    out = tmp_path / "run"
    server.outage(3600, after_requests=15, kind="null_content")
    first = run_in_process(generate_argv(out, server, "--config", cfg), server)
    assert first.code == ExitCode.INCOMPLETE, first.stderr
    assert first.stderr.count(WAITING) == 1
    assert final_bytes(out) is None
    server.outage(0)
    second = run_in_process(generate_argv(out, server, "--config", cfg), server)
    assert second.code == ExitCode.OK, second.stderr
    assert final_bytes(out) == clean["final"]
    assert repaid(first.records, second.records) == 0


@pytest.mark.parametrize("kind", ["503", "reset"])
def test_mid_run_outage_is_ridden_out_in_one_invocation(tmp_path, server, clean, kind):
    cfg = _config(tmp_path, FAST_OUTAGE + "max_outage = 60\n")
    server.outage(3.0, after_requests=clean["requests"] // 3, kind=kind)
    out = tmp_path / "run"
    run = run_in_process(generate_argv(out, server, "--config", cfg), server)
    assert run.code == ExitCode.OK, run.stderr
    assert server.outage_requests > 0, "the outage happened"
    assert final_bytes(out) == clean["final"]
    # the probes during the outage are few: requests wait instead of burning their retries
    assert server.outage_requests < 40


@pytest.mark.slow
def test_a_60_second_outage_is_ridden_out_with_the_default_settings(tmp_path, server, clean):
    server.outage(60.0, after_requests=clean["requests"] // 3)
    out = tmp_path / "run"
    run = run_in_process(generate_argv(out, server), server)
    assert run.code == ExitCode.OK, run.stderr
    assert final_bytes(out) == clean["final"]


def test_outage_longer_than_max_outage_stops_incomplete_and_rerun_finishes(
    tmp_path, server, clean
):
    cfg = _config(tmp_path, FAST_OUTAGE)
    server.outage(3600, after_requests=clean["requests"] // 2)
    out = tmp_path / "run"
    argv = generate_argv(out, server, "--config", cfg, "--max-outage", "1")
    first = run_in_process(argv, server)
    assert first.code == ExitCode.INCOMPLETE, first.stderr
    assert first.stderr.count(WAITING) == 1
    assert "Traceback" not in first.stderr
    # nothing was judged on the LLM's failure: no reject names it
    rejects = next(out.glob("*_rejects.jsonl"), None)
    text = rejects.read_text() if rejects else ""
    assert "llm_error" not in text and "HTTP 503" not in text
    # a rerun during the outage changes nothing and still pays nothing twice
    again = run_in_process(argv, server)
    assert again.code == ExitCode.INCOMPLETE
    assert repaid(first.records, again.records) == 0
    server.outage(0)
    last = run_in_process(argv, server)
    assert last.code == ExitCode.OK, last.stderr
    assert final_bytes(out) == clean["final"]
    assert repaid(first.records + again.records, last.records) == 0


def test_black_hole_endpoint_stops_after_the_first_wave(tmp_path, server):
    server.black_hole = True
    out = tmp_path / "run"
    run = run_in_process(generate_argv(out, server, "--request-timeout", "1.5"), server)
    assert run.code == ExitCode.LLM_UNAVAILABLE, run.stderr
    assert run.stderr.count("timed out") == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert run.seconds < 30, "hang guard: about twice the timeout, plus start-up"
    assert final_bytes(out) is None


def test_slow_drip_bodies_are_cut_at_the_deadline(tmp_path, server, clean):
    server.drip_seconds = 20.0
    server.fault_rate(0.1, ("drip",), seed=5)
    out = tmp_path / "run"
    run = run_in_process(generate_argv(out, server, "--request-timeout", "1"), server)
    assert run.code == ExitCode.OK, run.stderr
    assert any(r["fault"] == "drip" for r in run.records)
    assert final_bytes(out) == clean["final"]
    assert run.seconds < 60, "hang guard: each dripped request is cut after 1 s"


@pytest.mark.parametrize(
    ("url", "what"),
    [("http://127.0.0.1:99999/v1", "port"), ("http://127.0.0.1:port/v1", "port"),
     ("ftp://127.0.0.1/v1", "scheme"), ("http:///v1", "host")],
)
def test_bad_base_url_is_one_line_exit_2(tmp_path, url, what):
    from sqlsynth.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["generate", "--num", "1", "--out", str(tmp_path / "run"),
                     "--base-url", url, "--model", "m"])
    text = err.getvalue()
    assert code == ExitCode.USAGE, text
    errors = [line for line in text.splitlines() if "error" in line]
    assert len(errors) == 1 and what in errors[0], text
    assert "ExceptionGroup" not in text and "Traceback" not in text


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kill_9_at_a_random_point_then_resume(tmp_path, server, clean, seed):
    when = random.Random(seed).uniform(1.0, 2.0 + clean["seconds"])
    out = tmp_path / "run"
    argv = generate_argv(out, server)
    killed = run_killed(argv, server, when)
    resumed = run_in_process(argv, server)
    assert resumed.code == ExitCode.OK, resumed.stderr
    assert final_bytes(out) == clean["final"]
    # answers in flight at the moment of the kill may not have reached the cache; nothing
    # that was cached is paid again
    assert repaid(killed.records, resumed.records) <= 8
    assert not list(out.glob(".*.tmp")), "a killed write's temporary files are removed"
