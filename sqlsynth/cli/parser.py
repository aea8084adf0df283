"""The ``sqlsynth`` argument parser: every command's flags, and the ``RunConfig`` they make."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqlsynth.config import RunConfig

#: the demo's SQL per bundled database: 3 databases x 14, so at least 30 rows survive
DEMO_NUM = 14


def _default(key: str) -> str:
    """A key's built-in default as the help shows it."""
    from dataclasses import fields

    from sqlsynth.config import toml_value

    field = next(f for f in fields(RunConfig) if f.name == key)
    value = field.default_factory() if callable(field.default_factory) else field.default
    return toml_value(value)


def _keyed(text: str, key: str, default: str | None = None) -> str:
    """Help text with the default and the config key that sets the same value."""
    shown = _default(key) if default is None else default
    return f"{text} (default: {shown}; config key {key})"


def _add_endpoint_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="TOML config file (default: ./sqlsynth.toml if present)")
    p.add_argument("--model", help=_keyed("chat model name at the endpoint", "model",
                                         "the one the server's /models lists"))
    p.add_argument("--base-url", dest="base_url", help=_keyed(
        "OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1", "base_url",
        "none: the embedded local model, for trying things out"))
    p.add_argument("--api-key-env", dest="api_key_env",
                   help=_keyed("environment variable holding the API key", "api_key_env"))
    p.add_argument("--embedding-model", dest="embedding_model", help=_keyed(
        "embedding model name at the embedding endpoint", "embedding_model",
        "the embedding model the server lists"))
    p.add_argument("--embedding-base-url", dest="embedding_base_url",
                   help=_keyed("endpoint for embeddings; 'local' = the embedded "
                               "all-MiniLM-L6-v2, e.g. beside a chat-only server",
                               "embedding_base_url", "--base-url"))
    p.add_argument("--local-model", dest="local_model_path", help=_keyed(
        "a GGUF file for the local model", "local_model_path", "the bundled SmolLM2-135M"))
    p.add_argument("--concurrency", type=int, help=_keyed("LLM requests in flight", "concurrency"))
    p.add_argument("--seed", type=int, help=_keyed("random seed of sampling and requests", "seed"))
    p.add_argument("--no-llm-cache", dest="llm_cache", action="store_const", const=False,
                   help="do not cache LLM answers (default: cached in the run folder; "
                   "config key llm_cache)")
    p.add_argument("--embedding-concurrency", dest="embedding_concurrency", type=int,
                   help=_keyed("a lower limit of its own for the embedding endpoint (0: only "
                               "the total)", "embedding_concurrency"))
    p.add_argument("--request-timeout", dest="request_timeout", type=float, help=_keyed(
        "seconds one LLM request may take in all (connect, wait, body)", "request_timeout"))
    p.add_argument("--max-outage", dest="max_outage", type=float, help=_keyed(
        "seconds of endpoint outage to ride out before stopping incomplete (exit 75)",
        "max_outage"))
    p.add_argument("--max-line-bytes", dest="max_line_bytes", type=int, help=_keyed(
        "longest input line (JSONL) or field (CSV) accepted, in bytes", "max_line_bytes"))


def _add_db_flags(p: argparse.ArgumentParser, required: bool = False,
                  needed_when: str = "") -> None:
    what = "SQLite dir/file or a mysql:// / postgresql:// URL"
    if required:
        text = f"{what} (required; config key db)"
    elif needed_when:
        text = f"{what}; needed {needed_when} (default: none; config key db)"
    else:
        text = _keyed(what, "db", "the bundled example databases, announced on stderr")
    p.add_argument("--db", required=required, help=text)
    p.add_argument("--db-id", dest="db_ids", action="append",
                   help=_keyed("use only this database (repeatable)", "db_ids", "all"))
    p.add_argument("--query-timeout", dest="query_timeout", type=float,
                   help=_keyed("seconds one SQL query may run", "query_timeout"))
    p.add_argument("--allow-privileged-account", dest="allow_privileged_account",
                   action="store_const", const=True,
                   help="connect even with a database account that can write server files, "
                   "run programs or change server settings (refused by default; config key "
                   "allow_privileged_account)")


def _add_out_flag(p: argparse.ArgumentParser, command: str, what: str) -> None:
    from sqlsynth.run_folder import DEFAULT_OUT

    p.add_argument("--out", help=f"{what}; one run per folder (default: "
                   f"{DEFAULT_OUT[command]}; config key out)")


_CONFIG_KEYS = {
    "db", "db_ids", "out", "input", "field_map", "seed", "base_url", "model", "api_key_env",
    "embedding_model", "embedding_base_url", "local_model_path", "concurrency", "llm_cache",
    "query_timeout", "generate_num", "num_variations", "question_candidates", "cot_samples",
    "execution_generations", "execution_solver", "max_revisions",
    "embedding_concurrency", "request_timeout", "max_outage", "max_line_bytes",
    "executor", "ray_address", "workers", "shard", "allow_privileged_account",
    "sql_source", "hardness_mix", "question_source", "cot_source", "paraphrase",
}


def _config(args: argparse.Namespace, *, with_sources: bool = False, **extra: Any) -> Any:
    """The run's ``RunConfig`` from defaults, the toml file, the environment and the flags.

    A command's own default run folder replaces the shared default, and an applied
    ``./sqlsynth.toml`` that nobody named is announced (it changes what the run does).
    """
    from sqlsynth.run_folder import DEFAULT_OUT

    overrides = {k: v for k, v in vars(args).items() if k in _CONFIG_KEYS}
    overrides.update(extra)
    loaded = RunConfig.load_with_sources(getattr(args, "config", None), **overrides)
    command = getattr(args, "command", "")
    if loaded.sources.get("out") == "default" and command in DEFAULT_OUT:
        loaded.config = loaded.config.merged({"out": DEFAULT_OUT[command]})
        loaded.sources["out"] = f"default for {command}"
    if loaded.file is not None and not getattr(args, "config", None) and command != "config":
        print(f"note: applying settings from {loaded.file} (--config FILE to choose another)",
              file=sys.stderr)
    return loaded if with_sources else loaded.config


def _add_size_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--variations", dest="num_variations", type=int,
                   help=_keyed("refine: variations per SQL", "num_variations"))
    p.add_argument("--question-candidates", dest="question_candidates", type=int,
                   help=_keyed("questions sampled per SQL", "question_candidates"))
    p.add_argument("--cot-samples", dest="cot_samples", type=int,
                   help=_keyed("chain-of-thought answers per question", "cot_samples"))
    p.add_argument("--execution-generations", dest="execution_generations", type=int,
                   help=_keyed("answers sampled to grade execution difficulty",
                               "execution_generations"))
    p.add_argument("--solver", dest="execution_solver", choices=["prompt", "engine"],
                   help=_keyed("who answers when grading execution difficulty",
                               "execution_solver"))


def _add_source_flags(p: argparse.ArgumentParser) -> None:
    """Where SQL, questions and reasoning come from (issue 16's grammar / canonical paths)."""
    from sqlsynth.config import CHOICES

    p.add_argument("--sql-source", dest="sql_source", choices=CHOICES["sql_source"],
                   help=_keyed("llm, grammar (sampled from the database, no model), mixed "
                               "(both; refine: adds sampled variations); auto = grammar "
                               "without --base-url", "sql_source"))
    p.add_argument("--hardness-mix", dest="hardness_mix", action="append",
                   metavar="LEVEL=WEIGHT", help=_keyed(
                       "grammar SQL: weight of a Spider hardness level (easy, medium, hard, "
                       "extra); repeatable", "hardness_mix", "even"))
    p.add_argument("--question-source", dest="question_source",
                   choices=CHOICES["question_source"], help=_keyed(
                       "llm, or canonical (template questions from the SQL); auto = "
                       "canonical without --base-url", "question_source"))
    p.add_argument("--cot-source", dest="cot_source", choices=CHOICES["cot_source"],
                   help=_keyed("llm, or canonical (reasoning written from the SQL); auto = "
                               "canonical without --base-url", "cot_source"))
    p.add_argument("--paraphrase", choices=CHOICES["paraphrase"], help=_keyed(
        "rewrite canonical questions with a model, kept only when verified; auto = on when "
        "a model can run here", "paraphrase"))


def _add_executor_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--executor", choices=["local", "ray"], help=_keyed(
        "local, or ray: the run's shards as tasks on a Ray cluster", "executor"))
    p.add_argument("--ray-address", dest="ray_address", help=_keyed(
        "an existing Ray cluster (host:port or 'auto')", "ray_address", "none: a local one"))
    p.add_argument("--workers", type=int,
                   help=_keyed("with --executor ray: shards run at once", "workers"))
    p.add_argument("--shard", help=_keyed(
        "run only shard i of N (0-based, e.g. 3/8) into <out>/shard-i-of-N; join them with "
        "`sqlsynth merge`", "shard", "the whole run"))


def _add_engine_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-revisions", dest="max_revisions", type=int,
                   help=_keyed("engine: revision rounds after a failed or empty first SQL",
                               "max_revisions"))


def _add_decontamination_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--benchmark", action="append", metavar="[NAME=]PATH",
                   help="benchmark files: a folder with dev.json (+ tables.json) or gold SQL, "
                   "or one .json/.jsonl/.sql file; repeatable, e.g. spider=data/spider")
    p.add_argument("--question-threshold", dest="question_threshold", type=float, default=0.7,
                   help="question overlap (0-1) that counts as the benchmark's (default 0.7)")
    p.add_argument("--ngram", type=int, default=1,
                   help="compare questions by word n-grams up to N (default 1: words, robust "
                   "to rephrasing; 2-3 are stricter)")
    p.add_argument("--schema-threshold", dest="schema_threshold", type=float, default=0.5,
                   help="table.column Jaccard from which a row's database is the benchmark "
                   "item's (default 0.5)")
    p.add_argument("--sql-without-schema", dest="sql_without_schema", action="store_true",
                   help="count an SQL match on any schema (default: only on the item's own)")


def build_parser() -> argparse.ArgumentParser:
    from sqlsynth import __version__

    parser = argparse.ArgumentParser(
        prog="sqlsynth",
        description="Text-to-SQL training data from databases, and a content-aware "
        "Text-to-SQL engine. With no --base-url the embedded local model is used.",
    )
    parser.add_argument("--version", action="version", version=f"sqlsynth {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress display and no summary tables; errors and results only")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log what the library does (-vv: debug), and let other libraries' "
                        "progress bars through")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="write editable pipeline scripts and a config file here")
    p.add_argument("--dir", default=".", help="folder to write into (default: .)")
    p.add_argument("--force", action="store_true", help="overwrite files that exist")

    p = sub.add_parser("schema", help="print the schema renderings of each database")
    _add_db_flags(p)
    p.add_argument("--format", choices=["create", "inserts", "compact"], default="compact",
                   help="CREATE statements, sample INSERTs, or the compact prompt form "
                   "(default: compact)")

    p = sub.add_parser("generate", help="synthesise Text-to-SQL data from databases")
    _add_db_flags(p)
    _add_endpoint_flags(p)
    _add_size_flags(p)
    p.add_argument("--num", dest="generate_num", type=int,
                   help=_keyed("SQL queries per database", "generate_num"))
    _add_source_flags(p)
    _add_out_flag(p, "generate", "run folder: step files, final.jsonl, rejects, LLM cache")
    _add_executor_flags(p)

    p = sub.add_parser("refine", help="refine existing {db_id, SQL} rows (also Spider/BIRD files)")
    p.add_argument("--input", required=True, help="JSONL/JSON/CSV/parquet rows with db_id and "
                   "SQL; Spider's 'query' and BIRD's 'SQL'/'evidence' are read as they are")
    p.add_argument("--map", dest="field_map", action="append", metavar="SOURCE=TARGET",
                   help="read input field SOURCE as TARGET (db_id, SQL, question, evidence), "
                   "e.g. --map query=SQL; repeatable (default: Spider/BIRD names detected; config key "
                   "field_map)")
    _add_db_flags(p)
    _add_endpoint_flags(p)
    _add_size_flags(p)
    _add_source_flags(p)
    _add_out_flag(p, "refine", "run folder: step files, final.jsonl, rejects, LLM cache")
    _add_executor_flags(p)

    p = sub.add_parser("merge", help="merge the shard-i-of-N folders of a run into its final file")
    p.add_argument("--out", required=True, help="the run folder the shards ran in")
    p.add_argument("--config", help="TOML config file (default: ./sqlsynth.toml if present)")

    p = sub.add_parser("export", help="export a run's final rows")
    p.add_argument("--input", required=True, help="a run folder or a rows file")
    p.add_argument(
        "--format",
        required=True,
        choices=["jsonl", "json", "parquet", "hf", "llamafactory-alpaca", "llamafactory-sharegpt",
                 "rl", "dpo"],
        help="output format (rl: RL prompts for verl/TRL with sqlsynth.reward, parquet + jsonl; "
        "dpo: preference pairs from the execution-graded reasoning answers)",
    )
    p.add_argument("--layout", choices=["verl", "trl", "llamafactory-alpaca",
                                        "llamafactory-sharegpt"],
                   help="rl: the trainer's column layout, verl (default) or trl; dpo: trl "
                   "(default: parquet + jsonl), llamafactory-alpaca or llamafactory-sharegpt")
    p.add_argument("--pairs-per-row", dest="pairs_per_row", type=int, default=1, metavar="N",
                   help="dpo: up to N pairs per row, one per distinct failing answer (default 1)")
    p.add_argument("--pass-rate-between", dest="pass_rate_between", nargs=2, type=float,
                   metavar=("LOW", "HIGH"), help="rl: keep rows whose solver pass rate "
                   "(the execution classifier's) is in [LOW, HIGH], e.g. 0.1 0.9")
    p.add_argument("--db", help="rl: the database the gold SQL runs on for its result "
                   "fingerprint (default: the one the run recorded)")
    p.add_argument("--out", required=True, help="file or folder to write")
    p.add_argument("--keep-review", dest="keep_review", action="store_true",
                   help="add the reviewer's mark ({status, note}) to each marked row; rows "
                   "marked 'reject' in the viewer are always left out")
    p.add_argument("--license", default="unknown",
                   help="hf: the license id written in the dataset card (default: unknown)")
    p.add_argument("--push-to-hub", dest="push_to_hub", metavar="REPO",
                   help="hf: upload the folder to this Hugging Face dataset repo (token from "
                   "HF_TOKEN or huggingface-cli login)")
    p.add_argument("--private", action="store_true", help="hf: create the hub repo private")
    p.add_argument("--drop-quality-fields", action="store_true",
                   help="leave out the verification metadata (judge_verdict, cot_vote, "
                   "roundtrip_agreement, checks_passed, original_SQL, cot_candidates)")
    p.add_argument("--decontaminate", choices=["flag", "drop"],
                   help="check the rows against --benchmark first: flag adds each row's "
                   "'contamination' field, drop leaves matched rows out")
    _add_decontamination_flags(p)

    p = sub.add_parser("decontaminate", help="flag or drop rows that overlap public benchmarks",
                       description="Compare each row's question (word n-grams weighted by "
                       "rarity) and SQL (literal-normalized meaning, plus the schema it runs "
                       "on) with benchmark items given as their usual files (Spider/BIRD "
                       "dev.json, tables.json, gold SQL). Every row gets a 'contamination' "
                       "field (benchmark, item id, kind of overlap, score); a JSON report "
                       "lists every match. No benchmark text ships with sqlsynth.")
    p.add_argument("--input", required=True, help="a run folder or a rows file")
    p.add_argument("--mode", choices=["flag", "drop"], default="flag",
                   help="flag (default): keep every row, with its field; drop: leave matched "
                   "rows out")
    p.add_argument("--out", help="rows file to write (default for a run folder in flag mode: "
                   "its final.jsonl, rewritten; a rerun of the run rewrites it again)")
    p.add_argument("--report", help="JSON report (default: contamination.json next to --out)")
    p.add_argument("--db", help="the rows' databases, for the schema check (default: the one "
                   "the run recorded)")
    _add_decontamination_flags(p)

    p = sub.add_parser("view", help="review a run folder in the browser (local web app)",
                       description="Serve a review app for a run folder on 127.0.0.1: final "
                       "rows with their SQL and live results, rejects by step and reason, the "
                       "funnel and the LLM cost. Marks are saved in <run>/review.jsonl and "
                       "honoured by export. Opens nothing by itself: open the printed URL.")
    p.add_argument("run_dir", help="the run folder (--out of generate/refine/demo)")
    p.add_argument("--db", help="database to run the SQL against (default: the one the run "
                   "recorded)")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--prices", help="TOML/JSON price table {model = {input, output}} in USD "
                   "per 1M tokens (default: built-in list prices; env SQLSYNTH_PRICES)")
    p.add_argument("--query-timeout", dest="query_timeout", type=float, default=5.0,
                   help="seconds a result query may run (default 5)")

    p = sub.add_parser("report", help="write a run folder's HTML data card",
                       description="Write one self-contained HTML data card (inline SVG, no "
                       "network) of a run folder: funnel, reject reasons, difficulties, SQL "
                       "features, rows per database, question styles, usage and cost, samples.")
    p.add_argument("run_dir", help="the run folder")
    p.add_argument("--out", help="the HTML file (default: <run_dir>/report.html)")
    p.add_argument("--prices", help="price table, as for view")

    p = sub.add_parser("ask", help="answer questions with the content-aware engine",
                       description="Answer a question (or a file of them) with the "
                       "content-aware engine. Exit status for one question: 0 when the final "
                       "SQL ran (rows or an empty result), 3 when no SQL that runs was found "
                       "(see the README's exit codes).")
    _add_db_flags(p, required=True)
    _add_endpoint_flags(p)
    p.add_argument("question", nargs="?", help="the question (or use --questions)")
    p.add_argument("--json", action="store_true", help="print one JSON object: question, "
                   "SQL, status, columns, rows and the trace")
    p.add_argument("--questions", help="jsonl file of {db_id, question[, evidence, id]}")
    p.add_argument("--answers", help="answers file for --questions (resumable; default "
                   "<out>/answers.jsonl)")
    _add_out_flag(p, "ask", "run folder: LLM cache, knowledge table, value index")
    p.add_argument("--trace", action="store_true", help="print the full stage trace as JSON (with --questions: "
                   "store it in each answer)")
    p.add_argument("--knowledge", help="import a CSV/JSONL of keyword -> column -> value first")
    _add_engine_flags(p)

    p = sub.add_parser("eval", help="score predictions by EX and EM, broken down by hardness")
    _add_db_flags(p, needed_when="to execute SQL: not for --etype match with --tables, nor "
                  "for spider2 with prediction CSVs")
    _add_endpoint_flags(p)
    p.add_argument("--pred", help="predictions (jsonl, or one SQL per line)")
    p.add_argument("--gold", required=True, help="gold (jsonl, or Spider's 'SQL<TAB>db_id' lines)")
    p.add_argument("--questions", help="answer the gold file's questions with the engine first")
    p.add_argument("--json", dest="json_out", help="write the report as JSON here")
    p.add_argument("--answers", help="engine answers file with --questions (default "
                   "<out>/eval_answers.jsonl)")
    _add_out_flag(p, "eval", "run folder: LLM cache, knowledge table, value index")
    _add_engine_flags(p)
    from sqlsynth.cli.eval import add_eval_flags

    add_eval_flags(p)

    p = sub.add_parser("demo", help="the README's main job: synthesis on the bundled databases")
    p.add_argument("--out", default="demo_out", help="run folder (default: demo_out)")
    p.add_argument("--num", dest="generate_num", type=int, default=DEMO_NUM,
                   help=f"SQL queries per database (default: {DEMO_NUM})")
    p.add_argument("--local-model", dest="local_model_path", default="",
                   help="a GGUF file instead of the bundled SmolLM2-135M")
    _add_source_flags(p)

    p = sub.add_parser("config", help="show the effective settings and where each came from")
    p.add_argument("action", choices=["show"], help="show: each key, its value and its source "
                   "(default / toml file / env / flag)")
    _add_db_flags(p)
    _add_endpoint_flags(p)
    _add_size_flags(p)
    _add_engine_flags(p)
    _add_source_flags(p)
    p.add_argument("--num", dest="generate_num", type=int,
                   help=_keyed("SQL queries per database", "generate_num"))
    p.add_argument("--input", help=_keyed("refine input rows", "input"))
    p.add_argument("--out", help=_keyed("run folder", "out"))
    for command in sub.choices.values():  # -q / -v also after the command name
        command.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                             help="as 'sqlsynth -q'")
        command.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                             help="as 'sqlsynth -v'")
    return parser
