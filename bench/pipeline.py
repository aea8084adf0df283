"""Throughput of the generation pipeline against the scripted OpenAI-compatible server.

Runs the same workload twice in one process: streaming (rows flow through all steps at once)
and step by step (each step waits for its slowest request, as the reference does), and prints
requests, wall seconds, final rows per second, requests per final row, and the ratio of wall
time to the bound ``requests x latency / concurrency``. Prints figures; asserts nothing.

    python bench/pipeline.py --latency 0.2 --concurrency 16 --num 12
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SQLSYNTH_PROGRESS", "0")

from sqlsynth.config import RunConfig  # noqa: E402
from sqlsynth.pipelines import Text2SQLGeneration_APIPipeline  # noqa: E402
from sqlsynth.testing import ScriptedOpenAIServer  # noqa: E402
from sqlsynth.testing.pipeline_responder import PipelineResponder  # noqa: E402


def run_once(args: argparse.Namespace, streaming: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as out, ScriptedOpenAIServer(
        PipelineResponder(), latency=args.latency, honour_n=not args.ignore_n
    ) as server:
        cfg = RunConfig(
            out=out, base_url=server.base_url, model="scripted", embedding_model="scripted-emb",
            generate_num=args.num, concurrency=args.concurrency, llm_cache=False,
            question_candidates=args.question_candidates, cot_samples=args.cot_samples,
            execution_generations=args.execution_generations, seed=args.seed,
        )
        pipeline = Text2SQLGeneration_APIPipeline(config=cfg, streaming=streaming)
        start = time.perf_counter()
        pipeline.forward()
        wall = time.perf_counter() - start
        last = max(Path(out).glob(f"{cfg.file_name_prefix}_step*.jsonl"),
                   key=lambda p: int(p.stem.rsplit("step", 1)[1]))
        final_rows = sum(1 for line in last.read_text().splitlines() if line.strip())
        chat = len(server.chat_requests())
        emb = len(server.embedding_requests())
    requests = chat + emb
    bound = requests * args.latency / args.concurrency
    return {
        "mode": "streaming" if streaming else "step-by-step",
        "chat_requests": chat,
        "embedding_requests": emb,
        "final_rows": final_rows,
        "wall_s": round(wall, 3),
        "rows_per_s": round(final_rows / wall, 2) if wall else 0.0,
        "requests_per_row": round(requests / final_rows, 2) if final_rows else float("nan"),
        "bound_s": round(bound, 3),
        "wall_over_bound": round(wall / bound, 3) if bound else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per request")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--num", type=int, default=12, help="SQL queries per example database")
    parser.add_argument("--question-candidates", type=int, default=3)
    parser.add_argument("--cot-samples", type=int, default=3)
    parser.add_argument("--execution-generations", type=int, default=10)
    parser.add_argument("--ignore-n", action="store_true", help="server ignores n (fallback)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", action="store_true", help="print JSON lines only")
    args = parser.parse_args(argv)

    results = [run_once(args, streaming=True), run_once(args, streaming=False)]
    if args.json:
        for r in results:
            print(json.dumps(r))
        return 0
    print(f"latency {args.latency * 1000:.0f} ms, concurrency {args.concurrency}, "
          f"{args.num} SQL per database x 3 databases")
    keys = list(results[0])
    print(" | ".join(f"{k:>18}" for k in keys))
    for r in results:
        print(" | ".join(f"{r[k]!s:>18}" for k in keys))
    stream, step = results
    if stream["wall_s"]:
        print(f"speed-up of streaming over step-by-step: {step['wall_s'] / stream['wall_s']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
