"""Runs of ``sqlsynth generate`` against the scripted server, measured the way the fault
suite and ``bench/faults.py`` judge them: final rows against a clean run, answered calls paid
twice, exit codes and wall time.

"Re-paid" means a request the server had already answered (status 200 with a usable body) in
an earlier invocation of the same run, sent again by a later one: every answer that arrived is
cached, so a resumed run must never pay for it twice.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlsynth.testing.fake_openai import ScriptedOpenAIServer

#: small but complete generation runs: every step, several candidates, a few rows per database
GENERATE_SIZES = ("--num", "3", "--question-candidates", "3", "--cot-samples", "3",
                  "--execution-generations", "4", "--concurrency", "8")
FINAL = "final.jsonl"


def generate_argv(out: Path, server: ScriptedOpenAIServer, *extra: str) -> list[str]:
    """``sqlsynth generate`` arguments for a run in ``out`` against ``server``."""
    return ["generate", *GENERATE_SIZES, "--out", str(out), "--base-url", server.base_url,
            "--model", "scripted", "--embedding-model", "scripted-emb", *extra]


@dataclass
class Invocation:
    """One command run: its exit code, what it printed on stderr and how long it took."""

    code: int
    stderr: str
    seconds: float
    records: list[dict[str, Any]]


def request_key(record: dict[str, Any]) -> str:
    return record["path"] + " " + json.dumps(record["body"], sort_keys=True)


def answered_keys(records: Iterable[dict[str, Any]]) -> set[str]:
    return {request_key(r) for r in records
            if r.get("status") == 200 and r.get("fault") in (None, "wrong_content_type")}


def is_preflight(record: dict[str, Any]) -> bool:
    """The one-token checks every invocation sends before its first call (``sqlsynth.preflight``):
    they test the endpoint, they are not a run's answers, so a rerun sends them again."""
    body = record.get("body") or {}
    return body.get("input") == ["ping"] or (
        body.get("max_tokens") == 1
        and body.get("messages") == [{"role": "user", "content": "ping"}])


def repaid(earlier: Iterable[dict[str, Any]], later: Iterable[dict[str, Any]]) -> int:
    """Requests of ``later`` whose identical request ``earlier`` had already been answered
    (the preflight checks aside)."""
    done = answered_keys(earlier)
    return sum(count for key, count in Counter(request_key(r) for r in later
                                               if not is_preflight(r)).items()
               if key in done)


def run_in_process(argv: Sequence[str], server: ScriptedOpenAIServer) -> Invocation:
    """``sqlsynth.cli.main(argv)`` in this process, stderr captured (and echoed on failure)."""
    from sqlsynth.cli import main

    start_index = len(server.requests)
    err = io.StringIO()
    start = time.monotonic()
    with contextlib.redirect_stderr(err):
        try:
            code = int(main(list(argv)))
        except SystemExit as exc:  # argparse errors
            code = int(exc.code or 0)
    seconds = time.monotonic() - start
    return Invocation(code, err.getvalue(), seconds, list(server.requests[start_index:]))


def cli_command(argv: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "sqlsynth.cli", *argv]


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    env["SQLSYNTH_PROGRESS"] = "0"
    return env


def run_killed(argv: Sequence[str], server: ScriptedOpenAIServer, after_seconds: float
               ) -> Invocation:
    """Start the command as a process and ``kill -9`` it after ``after_seconds``."""
    start_index = len(server.requests)
    start = time.monotonic()
    proc = subprocess.Popen(cli_command(argv), env=subprocess_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        proc.wait(timeout=after_seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
    _, err = proc.communicate(timeout=60)
    return Invocation(proc.returncode, err.decode("utf-8", "replace"),
                      time.monotonic() - start, list(server.requests[start_index:]))


def final_bytes(out: Path) -> bytes | None:
    path = out / FINAL
    return path.read_bytes() if path.exists() else None


def count_lines(data: bytes | None) -> int:
    return 0 if not data else data.count(b"\n")
