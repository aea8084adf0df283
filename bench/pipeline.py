"""Throughput of the generation pipeline against the scripted OpenAI-compatible server.

Runs the same workload three times in one process: streaming (rows flow through all steps at
once), step by step (each step waits for its slowest request), and reference-like (step by
step with one request per candidate, as the reference sends them), and prints
requests, wall seconds, final rows per second, requests per final row, and the two lower
bounds of the wall time: ``requests x latency / concurrency`` (``--concurrency`` is the total
of chat and embedding requests in flight) and the longest chain of round trips one row needs
(``chain x latency``), with the ratio of wall time to the larger (``wall_over_bound``). It
also prints the CPU seconds this process and its database workers spent per kept row
(``cpu_ms_per_row``; the scripted server's own process is left out), the seconds from the start
to the first request leaving (``first_request_s``) and from the last answer to the end
(``tail_s``). Prints figures; asserts nothing.

The server runs in its own process so that its work does not share this process's GIL.
``--latency-dist exp`` draws each chat answer's latency from an exponential distribution with
the given mean (real endpoints have long tails); embeddings then answer at once.

    python bench/pipeline.py --latency 0.2 --concurrency 16 --num 30
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("SQLSYNTH_PROGRESS", "0")

# Heavy imports happen here, before any clock starts: the bench measures the pipeline.
import openai  # noqa: F401
import sqlglot  # noqa: F401

from sqlsynth.config import RunConfig
from sqlsynth.pipelines import Text2SQLGeneration_APIPipeline

_SERVER = """
import sys
from sqlsynth.testing import ScriptedOpenAIServer
from sqlsynth.testing.pipeline_responder import PipelineResponder
latency, dist, honour_n = float(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
responder = PipelineResponder(mean_latency=latency if dist == "exp" else 0.0)
server = ScriptedOpenAIServer(responder, latency=latency if dist == "const" else 0.0,
                              honour_n=honour_n).start()
print(server.base_url, flush=True)
sys.stdin.read()
"""


class RequestClock:
    """When the first request left and the last answer came back (wraps the one send path)."""

    def __init__(self) -> None:
        self.first: float | None = None
        self.last: float | None = None

    def __enter__(self) -> RequestClock:  # noqa: PYI034 - not subclassed
        from sqlsynth.llm.openai_client import OpenAIConnection

        self._original = original = OpenAIConnection._attempt
        clock = self

        async def timed(conn: OpenAIConnection, send: object, client: object) -> object:
            if clock.first is None:
                clock.first = time.perf_counter()
            try:
                return await original(conn, send, client)
            finally:
                clock.last = time.perf_counter()

        OpenAIConnection._attempt = timed
        return self

    def __exit__(self, *exc: object) -> None:
        from sqlsynth.llm.openai_client import OpenAIConnection

        OpenAIConnection._attempt = self._original


class ProcessCPU:
    """CPU seconds of this process and its descendants but ``exclude`` (the server).

    Descendants (database workers) are sampled every 50 ms, so one that ends between samples
    loses its last few milliseconds; without psutil only this process is counted.
    """

    def __init__(self, exclude: int) -> None:
        self.exclude = exclude
        self._seen: dict[int, float] = {}
        self._stop = threading.Event()

    def _sample(self) -> None:
        import psutil

        for child in psutil.Process().children(recursive=True):
            if child.pid == self.exclude:
                continue
            try:
                times = child.cpu_times()
            except psutil.Error:
                continue
            self._seen[child.pid] = times.user + times.system

    def _loop(self) -> None:
        while not self._stop.wait(0.05):
            self._sample()

    def __enter__(self) -> ProcessCPU:  # noqa: PYI034 - not subclassed
        self._start = time.process_time()
        try:
            import psutil  # noqa: F401
        except ImportError:
            self._thread = None
        else:
            self._sample()
            self._before = dict(self._seen)
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.own = time.process_time() - self._start
        self.children = 0.0
        if self._thread is not None:
            self._sample()
            self._stop.set()
            self._thread.join()
            self.children = sum(cpu - self._before.get(pid, 0.0)
                                for pid, cpu in self._seen.items())

    @property
    def seconds(self) -> float:
        return self.own + self.children


class ServerProcess:
    """The scripted server in a child process; stops when stdin closes."""

    def __init__(self, latency: float, dist: str, honour_n: bool) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _SERVER, str(latency), dist, "1" if honour_n else "0"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        self.base_url = self.proc.stdout.readline().strip()

    def __enter__(self) -> ServerProcess:  # noqa: PYI034 - not subclassed
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


#: LLM round trips one row waits for, one after another, in each step (chat, then embeddings
#: for the question generator); a step's n candidates travel in one request, or side by side
ROUND_TRIPS = {"SQLGenerator": 1, "SQLVariationGenerator": 1, "Text2SQLQuestionGenerator": 2,
               "Text2SQLCorrespondenceFilter": 1, "Text2SQLCoTGenerator": 1,
               "SQLExecutionClassifier": 1}


def chain_of_round_trips(pipeline: Text2SQLGeneration_APIPipeline) -> int:
    """Round trips one row waits for in sequence; a verdict-only step's overlap the next ones'
    (the runner starts them before the verdict, ``runner.SPECULATION_DEPTH`` steps deep)."""
    from sqlsynth.pipelines.runner import SPECULATION_DEPTH

    steps = pipeline.steps()
    trips = [ROUND_TRIPS.get(step.name, 0) for step in steps]
    chain = 0
    for i, step in enumerate(steps):
        if getattr(step.operator, "verdict_only", False):
            chain += max(0, trips[i] - sum(trips[i + 1:i + 1 + SPECULATION_DEPTH]))
        else:
            chain += trips[i]
    return chain


def run_once(args: argparse.Namespace, streaming: bool, honour_n: bool = True,
             label: str = "") -> dict[str, float | str]:
    with tempfile.TemporaryDirectory() as out, ServerProcess(
        args.latency, args.latency_dist, honour_n and not args.ignore_n
    ) as server:
        cfg = RunConfig(
            out=out, base_url=server.base_url, model="scripted", embedding_model="scripted-emb",
            generate_num=args.num, concurrency=args.concurrency, llm_cache=False,
            question_candidates=args.question_candidates, cot_samples=args.cot_samples,
            execution_generations=args.execution_generations, seed=args.seed,
        )
        with ProcessCPU(exclude=server.proc.pid) as cpu, RequestClock() as clock:
            start = time.perf_counter()
            pipeline = Text2SQLGeneration_APIPipeline(config=cfg, streaming=streaming)
            pipeline.forward()
            wall = time.perf_counter() - start
        last = max(Path(out).glob(f"{cfg.file_name_prefix}_step*.jsonl"),
                   key=lambda p: int(p.stem.rsplit("step", 1)[1]))
        final_rows = sum(1 for line in last.read_text().splitlines() if line.strip())
        chat = pipeline.llm_serving.stats.snapshot()["requests"]
        emb = pipeline.embedding_serving.stats.snapshot()["requests"]
    # one limit for both kinds of request; with --latency-dist exp embeddings answer at once
    timed = chat + (emb if args.latency_dist == "const" else 0)
    throughput_bound = timed * args.latency / args.concurrency
    chain = chain_of_round_trips(pipeline)
    chain_bound = chain * args.latency
    bound = max(throughput_bound, chain_bound)
    return {
        "mode": label or ("streaming" if streaming else "step-by-step"),
        "chat_requests": chat,
        "embedding_requests": emb,
        "final_rows": final_rows,
        "wall_s": round(wall, 3),
        "rows_per_s": round(final_rows / wall, 2) if wall else 0.0,
        "requests_per_row": round((chat + emb) / final_rows, 2) if final_rows else float("nan"),
        "requests_bound_s": round(throughput_bound, 3),
        "chain": chain,
        "chain_bound_s": round(chain_bound, 3),
        "wall_over_bound": round(wall / bound, 3) if bound else float("nan"),
        "cpu_s": round(cpu.seconds, 3),
        "cpu_ms_per_row": round(1000 * cpu.seconds / final_rows, 1) if final_rows else 0.0,
        "first_request_s": round(clock.first - start, 3) if clock.first else float("nan"),
        "tail_s": round(start + wall - clock.last, 3) if clock.last else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per request (mean)")
    parser.add_argument("--latency-dist", choices=["const", "exp"], default="const")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--num", type=int, default=30, help="SQL queries per example database")
    parser.add_argument("--question-candidates", type=int, default=3)
    parser.add_argument("--cot-samples", type=int, default=3)
    parser.add_argument("--execution-generations", type=int, default=10)
    parser.add_argument("--ignore-n", action="store_true", help="server ignores n (fallback)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", action="store_true", help="print JSON lines only")
    parser.add_argument("--streaming-only", action="store_true",
                        help="only the streaming run (the bounds), not the comparisons")
    args = parser.parse_args(argv)

    results = [run_once(args, streaming=True)]
    if not args.streaming_only:
        results += [
            run_once(args, streaming=False),
            # the reference's pattern: steps one after another, one request per candidate
            run_once(args, streaming=False, honour_n=False, label="reference-like"),
        ]
    if args.json:
        for r in results:
            print(json.dumps(r))
        return 0
    print(f"latency {args.latency * 1000:.0f} ms ({args.latency_dist}), concurrency "
          f"{args.concurrency}, {args.num} SQL per database x 3 databases")
    keys = list(results[0])
    print(" | ".join(f"{k:>16}" for k in keys))
    for r in results:
        print(" | ".join(f"{r[k]!s:>16}" for k in keys))
    if len(results) < 3:
        return 0
    stream, step, reference = results
    if stream["wall_s"]:
        print(f"speed-up of streaming over step-by-step: {step['wall_s'] / stream['wall_s']:.2f}x")
        print("speed-up over the reference-like pattern: "
              f"{reference['wall_s'] / stream['wall_s']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
