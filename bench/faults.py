"""How runs fare against a failing LLM endpoint and bad input: rows lost, calls paid twice,
hangs, wall time against a clean run, and peak memory of an oversize input.

Every scenario runs ``sqlsynth generate`` (or ``refine``) as a real process against the
scripted OpenAI-compatible server, with the faults of issue 9 injected; runs that stop
incomplete (exit 75) are rerun the way a user would, once the endpoint is healthy again.

    python bench/faults.py                    # the 60 s outage and a 256 MB input line
    python bench/faults.py --outage 10 --oversize-mb 64   # quicker

Columns: ``rows lost`` = clean run's final rows minus this scenario's (after reruns; also
non-zero when the rows differ), ``re-paid`` = requests the server had already answered in an
earlier invocation of the same run, ``hangs`` = invocations killed by the guard.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlsynth.testing import ScriptedOpenAIServer
from sqlsynth.testing.fake_openai import TRANSPORT_FAULTS
from sqlsynth.testing.fault_runs import (
    cli_command,
    count_lines,
    final_bytes,
    generate_argv,
    repaid,
    subprocess_env,
)
from sqlsynth.testing.pipeline_responder import PipelineResponder


@dataclass
class Result:
    name: str
    codes: list[int] = field(default_factory=list)
    rows: int = 0
    lost: int | str = 0
    repaid: int = 0
    hangs: int = 0
    seconds: float = 0.0
    peak_mb: float | None = None
    note: str = ""


@dataclass
class Proc:
    code: int
    seconds: float
    peak_mb: float
    records: list
    stderr: str
    after_first_request: float | None = None


def run_proc(argv: list[str], server: ScriptedOpenAIServer | None, guard: float,
             kill_after: float | None = None) -> tuple[Proc, bool]:
    """Run the CLI as a child; returns its result and whether the guard had to kill it."""
    with tempfile.TemporaryFile() as err_file:
        return _run_proc(argv, server, guard, kill_after, err_file)


def _run_proc(argv: list[str], server: ScriptedOpenAIServer | None, guard: float,
              kill_after: float | None, err_file) -> tuple[Proc, bool]:
    start_index = len(server.requests) if server else 0
    start = time.monotonic()
    proc = subprocess.Popen(cli_command(argv), env=subprocess_env(), stdout=subprocess.DEVNULL,
                            stderr=err_file)
    hung = False
    limit = kill_after if kill_after is not None else guard
    # os.wait4 (not Popen.poll) reaps the child: it also gives that child's peak memory
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - start >= limit:
            hung = kill_after is None
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.05)
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    err_file.seek(0)
    stderr = err_file.read().decode("utf-8", "replace")
    records = list(server.requests[start_index:]) if server else []
    first = min((r["t"] for r in records if "t" in r), default=None)
    ended = time.monotonic()
    result = Proc(code, ended - start, usage.ru_maxrss / 1024, records, stderr,
                  ended - first if first is not None else None)
    return result, hung


def judge(result: Result, out: Path, clean: bytes) -> None:
    data = final_bytes(out)
    result.rows = count_lines(data)
    if data == clean:
        result.lost = 0
    else:
        result.lost = max(count_lines(clean) - result.rows, 0) or "differ"


NUM: list[str] = []  # --num N, appended to every generate command


def scenario(name: str, out_root: Path, clean: bytes | None, guard: float,
             setup=None, after_first=None, extra: tuple[str, ...] = (),
             kill_after: float | None = None, max_runs: int = 4) -> Result:
    result = Result(name)
    out = out_root / name.replace(" ", "_")
    with ScriptedOpenAIServer(PipelineResponder()) as server:
        if setup:
            setup(server)
        argv = generate_argv(out, server, *NUM, *extra)
        earlier: list = []
        for attempt in range(max_runs):
            proc, hung = run_proc(argv, server, guard,
                                  kill_after=kill_after if attempt == 0 else None)
            result.codes.append(proc.code)
            if attempt == 0 and proc.after_first_request is not None:
                result.note = (f"{proc.after_first_request:.1f} s from the first request to "
                               "the exit")
            result.hangs += int(hung)
            result.seconds += proc.seconds
            result.repaid += repaid(earlier, proc.records)
            earlier += proc.records
            if attempt == 0 and after_first:
                after_first(server)
            if proc.code != 75 and not (attempt == 0 and kill_after is not None):
                break
            if attempt == 0 and kill_after is not None and proc.code == 0:
                break
    if clean is not None:
        judge(result, out, clean)
    return result


def table(results: list[Result], clean_seconds: float) -> str:
    head = ("scenario", "exit codes", "final rows", "rows lost", "calls re-paid", "hangs",
            "wall s", "vs clean", "peak MB")
    rows = [head]
    for r in results:
        rows.append((r.name, ",".join(map(str, r.codes)), str(r.rows), str(r.lost),
                     str(r.repaid), str(r.hangs), f"{r.seconds:.1f}",
                     f"{r.seconds / clean_seconds:.2f}x" if clean_seconds else "-",
                     f"{r.peak_mb:.0f}" if r.peak_mb is not None else "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def oversize(out_root: Path, megabytes: int, guard: float) -> Result:
    """A refine input whose second line is ``megabytes`` long, read under the default limit
    (64 MB) or above it: a clear error (exit 2) and memory bounded by the limit."""
    result = Result(f"oversize line {megabytes} MB")
    big = out_root / "big.jsonl"
    line = b'{"db_id": "retail_orders", "SQL": "SELECT 1"}\n'
    with big.open("wb") as handle:
        handle.write(line)
        handle.write(b'{"db_id": "retail_orders", "SQL": "SELECT \'')
        chunk = b"x" * (1 << 20)
        for _ in range(megabytes):
            handle.write(chunk)
        handle.write(b"'\"}\n")
    with ScriptedOpenAIServer(PipelineResponder()) as server:
        argv = ["refine", "--input", str(big), "--out", str(out_root / "oversize"),
                "--base-url", server.base_url, "--model", "m", "--embedding-model", "e"]
        proc, hung = run_proc(argv, server, guard)
    result.codes, result.hangs, result.seconds = [proc.code], int(hung), proc.seconds
    result.peak_mb = proc.peak_mb
    result.lost = "-"
    result.note = proc.stderr.strip().splitlines()[-2] if proc.stderr.strip() else ""
    big.unlink()
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=60.0, help="mid-run outage, seconds")
    parser.add_argument("--oversize-mb", type=int, default=256)
    parser.add_argument("--seeds", type=int, default=3, help="kill -9 scenarios")
    parser.add_argument("--keep", action="store_true", help="keep the run folders")
    parser.add_argument("--num", type=int, default=3, help="SQL queries per database")
    args = parser.parse_args(argv)
    os.environ["SQLSYNTH_PROGRESS"] = "0"
    NUM[:] = ["--num", str(args.num)]
    root = Path(tempfile.mkdtemp(prefix="sqlsynth-faults-"))
    results: list[Result] = []
    try:
        with ScriptedOpenAIServer(PipelineResponder()) as server:
            out = root / "clean"
            proc, _ = run_proc(generate_argv(out, server, *NUM), server, 600)
        clean = final_bytes(out) or b""
        clean_seconds = proc.seconds
        requests = len(proc.records)
        base = Result("clean", [proc.code], count_lines(clean), 0, 0, 0, proc.seconds)
        results.append(base)
        guard = 10 * clean_seconds + 120

        def rate(kinds, p=0.2):
            return lambda s: s.fault_rate(p, kinds, seed=11)

        results.append(scenario("transport faults 20%", root, clean, guard,
                                setup=rate(TRANSPORT_FAULTS)))
        results.append(scenario("null/empty completions 20%", root, clean, guard,
                                setup=rate(("null_content", "empty_content"))))

        def drip(s):
            s.drip_seconds = 20.0
            s.fault_rate(0.1, ("drip",), seed=11)

        results.append(scenario("slow drip 10% (20 s body, 3 s timeout)", root, clean, guard,
                                setup=drip, extra=("--request-timeout", "3")))
        results.append(scenario(
            f"outage {args.outage:g} s mid-run", root, clean, guard + args.outage,
            setup=lambda s: s.outage(args.outage, after_requests=requests // 3)))
        results.append(scenario(
            "outage > --max-outage 5 (rerun)", root, clean, guard,
            setup=lambda s: s.outage(3600, after_requests=requests // 3),
            after_first=lambda s: s.outage(0), extra=("--max-outage", "5")))

        def hole(s):
            s.black_hole = True

        black = scenario("black hole (3 s timeout)", root, None, 60, setup=hole,
                         extra=("--request-timeout", "3"))
        black.lost = "-"
        black.note = f"exit 5 expected; {black.note}"
        results.append(black)
        for seed in range(1, args.seeds + 1):
            when = random.Random(seed).uniform(1.5, 0.8 * clean_seconds)
            results.append(scenario(f"kill -9 at {when:.1f} s (seed {seed})", root, clean,
                                    guard, kill_after=when))
        results.append(oversize(root, args.oversize_mb, guard))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(table(results, clean_seconds))
    print(f"\nclean run: {requests} requests, {count_lines(clean)} final rows, "
          f"{clean_seconds:.1f} s")
    for r in results:
        if r.note and (r.name.startswith(("black", "oversize"))):
            print(f"{r.name}: {r.note}")


if __name__ == "__main__":
    main()
