"""The ``sqlsynth`` command line: parses arguments and calls the library, nothing more."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from sqlsynth.config import RunConfig


def _add_endpoint_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="TOML config file (default: ./sqlsynth.toml if present)")
    p.add_argument("--model", help="chat model name at the endpoint")
    p.add_argument("--base-url", dest="base_url", help="OpenAI-compatible endpoint; none = local model")
    p.add_argument("--api-key-env", dest="api_key_env", help="environment variable holding the key")
    p.add_argument("--embedding-model", dest="embedding_model")
    p.add_argument("--embedding-base-url", dest="embedding_base_url",
                   help="endpoint for embeddings (default: --base-url); 'local' = the embedded "
                   "all-MiniLM-L6-v2, e.g. beside a chat-only server")
    p.add_argument("--local-model", dest="local_model_path", help="a GGUF file for the local model")
    p.add_argument("--concurrency", type=int, help="LLM requests in flight")
    p.add_argument("--seed", type=int)
    p.add_argument("--no-llm-cache", dest="llm_cache", action="store_const", const=False)


def _add_db_flags(p: argparse.ArgumentParser, required: bool = False) -> None:
    p.add_argument("--db", required=required, help="SQLite dir/file or a mysql:// / postgresql:// URL")
    p.add_argument("--db-id", dest="db_ids", action="append", help="restrict to these db_ids")
    p.add_argument("--query-timeout", dest="query_timeout", type=float)
    p.add_argument("--allow-privileged-account", dest="allow_privileged_account",
                   action="store_const", const=True,
                   help="connect even with a database account that can write server files, "
                   "run programs or change server settings (refused by default)")


def _config(args: argparse.Namespace, **extra: Any) -> RunConfig:
    names = {
        "db", "db_ids", "out", "input", "seed", "base_url", "model", "api_key_env",
        "embedding_model", "embedding_base_url", "local_model_path", "concurrency", "llm_cache", "query_timeout",
        "allow_privileged_account",
        "generate_num", "num_variations", "question_candidates", "cot_samples",
        "execution_generations", "execution_solver", "max_revisions",
    }
    overrides = {k: v for k, v in vars(args).items() if k in names}
    overrides.update(extra)
    return RunConfig.load(getattr(args, "config", None), **overrides)


def _add_size_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--variations", dest="num_variations", type=int)
    p.add_argument("--question-candidates", dest="question_candidates", type=int)
    p.add_argument("--cot-samples", dest="cot_samples", type=int)
    p.add_argument("--execution-generations", dest="execution_generations", type=int)
    p.add_argument("--solver", dest="execution_solver", choices=["prompt", "engine"],
                   help="who answers when grading execution difficulty")


def _add_engine_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-revisions", dest="max_revisions", type=int,
                   help="engine: revision rounds after a failed or empty first SQL (default 3)")


def build_parser() -> argparse.ArgumentParser:
    from sqlsynth import __version__

    parser = argparse.ArgumentParser(
        prog="sqlsynth",
        description="Text-to-SQL training data from databases, and a content-aware "
        "Text-to-SQL engine. With no --base-url the embedded local model is used.",
    )
    parser.add_argument("--version", action="version", version=f"sqlsynth {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="write editable pipeline scripts and a config file here")
    p.add_argument("--dir", default=".")
    p.add_argument("--force", action="store_true")

    p = sub.add_parser("schema", help="print the schema renderings of each database")
    _add_db_flags(p)
    p.add_argument("--format", choices=["create", "inserts", "compact"], default="compact")

    p = sub.add_parser("generate", help="synthesise Text-to-SQL data from databases")
    _add_db_flags(p)
    _add_endpoint_flags(p)
    _add_size_flags(p)
    p.add_argument("--num", dest="generate_num", type=int, help="SQL queries per database")
    p.add_argument("--out", help="output / cache folder (default ./cache)")

    p = sub.add_parser("refine", help="refine existing {db_id, SQL} rows")
    p.add_argument("--input", required=True)
    _add_db_flags(p)
    _add_endpoint_flags(p)
    _add_size_flags(p)
    p.add_argument("--out")

    p = sub.add_parser("export", help="export a run's final rows")
    p.add_argument("--input", required=True, help="a run folder or a rows file")
    p.add_argument(
        "--format",
        required=True,
        choices=["jsonl", "json", "parquet", "hf", "llamafactory-alpaca", "llamafactory-sharegpt"],
    )
    p.add_argument("--out", required=True)

    p = sub.add_parser("ask", help="answer questions with the content-aware engine",
                       description="Answer a question (or a file of them) with the "
                       "content-aware engine. Exit status for one question: 0 when the final "
                       "SQL ran (rows or an empty result), 1 when no SQL that runs was found.")
    _add_db_flags(p, required=True)
    _add_endpoint_flags(p)
    p.add_argument("question", nargs="?")
    p.add_argument("--questions", help="jsonl file of {db_id, question[, evidence, id]}")
    p.add_argument("--answers", help="answers file for --questions (resumable; default "
                   "<out>/answers.jsonl)")
    p.add_argument("--out", help="run folder: LLM cache, knowledge table, value index")
    p.add_argument("--trace", action="store_true", help="print the full stage trace as JSON (with --questions: "
                   "store it in each answer)")
    p.add_argument("--knowledge", help="import a CSV/JSONL of keyword -> column -> value first")
    _add_engine_flags(p)

    p = sub.add_parser("eval", help="score predictions by EX and EM, broken down by hardness")
    _add_db_flags(p, required=True)
    _add_endpoint_flags(p)
    p.add_argument("--pred", help="predictions (jsonl, or one SQL per line)")
    p.add_argument("--gold", required=True, help="gold (jsonl, or Spider's 'SQL<TAB>db_id' lines)")
    p.add_argument("--questions", help="answer the gold file's questions with the engine first")
    p.add_argument("--json", dest="json_out", help="write the report as JSON here")
    p.add_argument("--answers", help="engine answers file with --questions (default "
                   "<out>/eval_answers.jsonl)")
    p.add_argument("--out", help="run folder: LLM cache, knowledge table, value index")
    _add_engine_flags(p)

    p = sub.add_parser("demo", help="the README's main job: synthesis on the bundled databases")
    p.add_argument("--out", default="demo_out")
    p.add_argument("--num", dest="generate_num", type=int, default=2)
    p.add_argument("--local-model", dest="local_model_path", default="",
                   help="a GGUF file instead of the bundled SmolLM2-135M")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from sqlsynth import commands

    handler = getattr(commands, f"cmd_{args.command}")
    start = time.perf_counter()
    try:
        return int(handler(args, _config) or 0)
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except Exception as exc:
        from sqlsynth.errors import is_user_error

        if not is_user_error(exc):
            raise
        print(f"sqlsynth {args.command}: error: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.command in {"generate", "refine", "demo"}:
            print(f"wall time: {time.perf_counter() - start:.1f} s", file=sys.stderr)


def dump_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, default=str)


if __name__ == "__main__":
    sys.exit(main())

