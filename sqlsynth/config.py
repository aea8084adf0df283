"""One source of truth for a run's settings.

Values come from, in increasing precedence: the defaults below, a TOML config file
(``sqlsynth.toml``, written by ``sqlsynth init``), environment variables for the endpoint, and
command-line flags. Pipelines and the CLI read only a ``RunConfig``. ``KEY_HELP`` and
``ENVIRONMENT`` describe every key and variable once: the commented ``init`` file,
``sqlsynth config show`` and the README's settings page are written from them.
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CONFIG_FILE_NAME = "sqlsynth.toml"


@dataclass
class RunConfig:
    """Everything a generation / refinement / ask run needs to know."""

    # where the databases are: a directory of SQLite files, a file, or a server URL;
    # empty means the bundled example databases
    db: str = ""
    db_ids: list[str] = field(default_factory=list)
    out: str = "./cache"
    input: str = ""  # refine: the {db_id, SQL} rows
    field_map: list[str] = field(default_factory=list)  # refine: ["SOURCE=TARGET"] (--map)
    file_name_prefix: str = "sqlsynth"
    cache_type: str = "jsonl"
    seed: int = 42

    # LLM endpoint; empty base_url means the embedded local model
    base_url: str = ""
    # empty = ask the server's /models (OpenAI's own API: gpt-4o-mini / text-embedding-3-small)
    model: str = ""
    api_key_env: str = "OPENAI_API_KEY"
    embedding_base_url: str = ""
    embedding_model: str = ""
    local_model_path: str = ""  # any GGUF file; empty = the bundled SmolLM2-135M
    local_threads: int = 0  # CPU threads for the local model; 0 = every core
    # send output-format grammars to the endpoint (llama.cpp's server understands them)
    grammar_passthrough: bool = False
    # LLM requests in flight in all, chat and embeddings together
    concurrency: int = 32
    request_timeout: float = 120.0  # seconds for a whole request: connect, wait and body
    # riding out an endpoint outage: after this many failed attempts in a row requests pause
    # and one probe at a time is sent (delay doubling up to the max); an outage longer than
    # max_outage seconds stops the run incomplete (exit 75: rerun to continue)
    max_outage: float = 300.0
    outage_after_failures: int = 8
    outage_probe_delay: float = 1.0
    outage_max_probe_delay: float = 15.0
    # a lower bound of its own for the embedding endpoint (0 = only the total above)
    embedding_concurrency: int = 0
    temperature: float = 0.8
    llm_cache: bool = True
    llm_cache_path: str = ""  # empty = <out>/llm_cache.sqlite

    # input files: the longest line (JSONL) or field (CSV) accepted, in bytes; longer ones are
    # a clear error instead of gigabytes of memory
    max_line_bytes: int = 64 * 1024 * 1024

    # database safety limits
    query_timeout: float = 10.0
    max_rows: int = 10_000
    # functions untrusted SQL may call besides the built-in allowlist of side-effect-free ones
    # (sqlsynth.db.functions), e.g. ["my_pure_udf"]
    allowed_functions: list[str] = field(default_factory=list)
    # run model-written SQL even as an account that can reach outside the database
    # (MySQL FILE/SUPER/admin privileges, a PostgreSQL superuser or server-file roles)
    allow_privileged_account: bool = False

    # operator sizes (reference defaults)
    generate_num: int = 50
    num_variations: int = 5
    question_candidates: int = 5
    cot_samples: int = 3
    execution_generations: int = 10
    min_valid_candidates: int = 1
    # who answers for SQLExecutionClassifier: "prompt" (the LLM on the training prompt) or
    # "engine" (the content-aware engine, which probes stored values first)
    execution_solver: str = "prompt"

    # where each part of a row comes from (issue 16): "auto" picks grammar SQL, canonical
    # questions and canonical reasoning with no base_url, the LLM with one
    sql_source: str = "auto"  # auto | llm | grammar | mixed (refine: mixed adds sampled variations)
    hardness_mix: list[str] = field(default_factory=list)  # ["easy=1", "extra=2"]; [] = even
    question_source: str = "auto"  # auto | llm | canonical
    cot_source: str = "auto"  # auto | llm | canonical
    paraphrase: str = "auto"  # auto | on | off: rewrite canonical questions with a model

    # verified data: the checks that make a kept row's question, SQL and reasoning agree; each
    # can be switched off (all off + cot_policy "replace" is the behaviour before them)
    question_checks: bool = True  # deterministic question/evidence checks before the judge
    roundtrip: bool = True  # round-trip verification by the execution solver
    roundtrip_min_agree: int = 0  # solver answers that must agree; 0 = a quarter of them
    # agreement (reject below roundtrip_min_agree) | evidence (reject on a mismatch; opt-in:
    # keeps the hard rows, but bench/data_quality.py measured 3-6 % defective rows with it)
    roundtrip_policy: str = "agreement"
    cot_policy: str = "agree"  # agree | adopt_majority | replace
    reasoning_check: bool = True  # the kept reasoning's text must name what its SQL uses
    neighbour_databases: int = 3  # perturbed copies (SQLite) that reasoning SQL must agree on
    dedup_by_meaning: bool = True  # aliases, layout, literals of one template are duplicates
    # degenerate results each pipeline rejects: any of "empty", "all_null", "truncated"
    synthesis_reject_results: list[str] = field(
        default_factory=lambda: ["empty", "all_null", "truncated"])
    # refine checks the model's rewrites only; the user's own rows too when this is true
    refine_reject_results: list[str] = field(
        default_factory=lambda: ["empty", "all_null", "truncated"])
    refine_check_original_results: bool = False

    # content-aware engine (ask, eval --questions, --solver engine): revision rounds after the
    # first SQL when it fails or returns no rows
    max_revisions: int = 3

    # where the run executes: "local" (this process) or "ray" (shards as Ray tasks, merged);
    # ray_address empty = a private local Ray cluster; workers = shards run at once.
    # shard "i/N" runs only shard i of N in <out>/shard-i-of-N (job arrays; `sqlsynth merge`)
    executor: str = "local"
    ray_address: str = ""
    workers: int = 2
    shard: str = ""

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None, **overrides: Any) -> RunConfig:
        """Defaults < config file < environment < explicit overrides (None means unset)."""
        return cls.load_with_sources(path, **overrides).config

    @classmethod
    def load_with_sources(cls, path: str | os.PathLike[str] | None = None,
                          **overrides: Any) -> LoadedConfig:
        """``load``, also saying where each value came from and which file was read."""
        cfg = cls()
        sources = {f.name: "default" for f in fields(cls)}
        file_path = Path(path) if path else Path(CONFIG_FILE_NAME)
        used_file: Path | None = None
        if path or file_path.exists():
            values = _read_toml(file_path)
            cfg = cfg.merged(values)
            used_file = file_path
            sources.update({k: f"toml file {file_path}" for k in values})
        for key, names in ENV_KEYS.items():
            name = next((n for n in names if os.environ.get(n)), None)
            if name:
                cfg = cfg.merged({key: os.environ[name]})
                sources[key] = f"env ${name}"
        given = {k: v for k, v in overrides.items() if v is not None}
        cfg = cfg.merged(given)
        sources.update({k: "flag" for k in given})
        return LoadedConfig(cfg, sources, used_file)

    def merged(self, values: dict[str, Any]) -> RunConfig:
        known = {f.name: f for f in fields(self)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown configuration key(s): {', '.join(unknown)}")
        names = values.get("allowed_functions")
        if names is not None and (
            not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names)
        ):
            raise ValueError(
                "allowed_functions must be a list of function names, e.g. [\"my_udf\"]"
            )
        for key, value in values.items():
            check_choice(key, value)
        if "hardness_mix" in values:
            parse_hardness_mix(values["hardness_mix"])
        data = asdict(self)
        data.update(values)
        return RunConfig(**data)

    def to_toml(self, *, commented: bool = False) -> str:
        """Every key as TOML; ``commented`` puts each key's ``KEY_HELP`` line above it."""
        lines = []
        for key, value in asdict(self).items():
            if commented:
                lines.append("")
                lines.append(f"# {KEY_HELP.get(key, key)}")
            lines.append(f"{key} = {toml_value(value)}")
        return "\n".join(lines).lstrip("\n") + "\n"


@dataclass
class LoadedConfig:
    """A loaded ``RunConfig`` with the origin of each value ("default", "toml file PATH",
    "env $NAME", "flag") and the config file that was applied, if any."""

    config: RunConfig
    sources: dict[str, str]
    file: Path | None = None


#: keys with a fixed set of values (checked when a config is loaded or merged)
CHOICES: dict[str, tuple[str, ...]] = {
    "sql_source": ("auto", "llm", "grammar", "mixed"),
    "question_source": ("auto", "llm", "canonical"),
    "cot_source": ("auto", "llm", "canonical"),
    "paraphrase": ("auto", "on", "off"),
    "execution_solver": ("prompt", "engine"),
    "roundtrip_policy": ("agreement", "evidence"),
    "cot_policy": ("agree", "adopt_majority", "replace"),
    "executor": ("local", "ray"),
}

HARDNESS_LEVELS = ("easy", "medium", "hard", "extra")


def check_choice(key: str, value: Any) -> None:
    """A clear error naming the key when ``value`` is not one of its ``CHOICES``."""
    allowed = CHOICES.get(key)
    if allowed is not None and value not in allowed:
        raise ValueError(f"{key} must be one of {', '.join(allowed)}; got {value!r}")


def parse_hardness_mix(items: Any) -> dict[str, float] | None:
    """``["easy=1", "extra=2"]`` as ``{"easy": 1.0, "extra": 2.0}``; ``[]`` = None (even).

    Also accepts a TOML table ``{easy = 1, extra = 2}``; every error names the key."""
    if isinstance(items, dict):
        pairs = list(items.items())
    elif isinstance(items, (list, tuple)):
        pairs = []
        for item in items:
            if not isinstance(item, str) or item.count("=") != 1:
                raise ValueError(f"hardness_mix: expected LEVEL=WEIGHT, got {item!r}")
            level, weight = item.split("=")
            pairs.append((level.strip(), weight.strip()))
    else:
        raise ValueError(  # noqa: TRY004 - a config value error, reported like others (exit 2)
            f"hardness_mix must be a list of LEVEL=WEIGHT strings, got {items!r}")
    mix: dict[str, float] = {}
    for level, weight in pairs:
        if level not in HARDNESS_LEVELS:
            raise ValueError(f"hardness_mix: unknown level {level!r}; levels are "
                             f"{', '.join(HARDNESS_LEVELS)}")
        try:
            value = float(weight)
        except (TypeError, ValueError):
            raise ValueError(f"hardness_mix: weight of {level!r} must be a number, "
                             f"got {weight!r}") from None
        if not value >= 0:
            raise ValueError(f"hardness_mix: weight of {level!r} must be >= 0, got {weight!r}")
        mix[level] = value
    if mix and not any(mix.values()):
        raise ValueError("hardness_mix: at least one weight must be above 0")
    return mix or None


#: environment variables that set a key, first one set wins (flags still override them)
ENV_KEYS: dict[str, tuple[str, ...]] = {
    "base_url": ("SQLSYNTH_BASE_URL", "OPENAI_BASE_URL"),
    "model": ("SQLSYNTH_MODEL",),
    "embedding_model": ("SQLSYNTH_EMBEDDING_MODEL",),
}

#: every environment variable sqlsynth reads, and what for
ENVIRONMENT: dict[str, str] = {
    "SQLSYNTH_BASE_URL": "the OpenAI-compatible endpoint (key base_url); wins over "
                         "OPENAI_BASE_URL",
    "OPENAI_BASE_URL": "the endpoint when SQLSYNTH_BASE_URL is not set (key base_url)",
    "SQLSYNTH_MODEL": "the chat model name (key model)",
    "SQLSYNTH_EMBEDDING_MODEL": "the embedding model name (key embedding_model)",
    "OPENAI_API_KEY": "the API key (the variable's name is key api_key_env; a server on "
                      "this machine needs none)",
    "DF_API_KEY": "the API key when the variable named by api_key_env is not set (the "
                  "reference's name)",
    "SQLSYNTH_PROGRESS": "0 turns progress bars off",
    "SQLSYNTH_CACHE_DIR": "where library code outside a run keeps its LLM cache "
                          "(default ./.sqlsynth)",
    "SQLSYNTH_CHAT_MODEL": "library code outside a run: the chat model when SQLSYNTH_MODEL "
                           "is not set",
    "SQLSYNTH_PROGRESS_INTERVAL": "seconds between progress lines in log mode (default 5)",
    "SQLSYNTH_PRICES": "view/report: the price table file when --prices is not given",
}

#: one line per configuration key: what it sets (the commented ``init`` file, ``config show``)
KEY_HELP: dict[str, str] = {
    "db": "databases: a directory of SQLite files, one file, or a mysql:// / postgresql:// URL; "
          "empty = the bundled example databases",
    "db_ids": "restrict the run to these database ids (empty = every database found)",
    "out": "run folder: step files, final.jsonl, rejects, LLM cache (one command per folder)",
    "input": "refine: the input rows (JSONL/JSON with db_id and SQL, or Spider/BIRD files)",
    "field_map": "refine: input fields read as the pipeline's (--map), e.g. [\"gold_sql=SQL\"]; "
                 "empty = Spider/BIRD names detected",
    "file_name_prefix": "prefix of the step files in the run folder",
    "cache_type": "format of the step files: jsonl, json, csv or parquet",
    "seed": "random seed of sampling and of the LLM requests",
    "base_url": "OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1; empty = the "
                "embedded local model (small, for trying things out)",
    "model": "chat model name at the endpoint; empty = the one the server's /models lists",
    "api_key_env": "name of the environment variable that holds the API key",
    "embedding_base_url": "endpoint for embeddings; empty = base_url; \"local\" = the embedded "
                          "all-MiniLM-L6-v2 (e.g. beside a chat-only server)",
    "embedding_model": "embedding model name; empty = the embedding model the server lists",
    "local_model_path": "a GGUF file for the local model; empty = the bundled SmolLM2-135M",
    "local_threads": "CPU threads of the local model; 0 = every core",
    "grammar_passthrough": "send output-format grammars to the endpoint (llama.cpp's server "
                           "understands them)",
    "concurrency": "LLM requests in flight in all, chat and embeddings together",
    "embedding_concurrency": "a lower limit of its own for the embedding endpoint (0 = only "
                             "the total concurrency)",
    "request_timeout": "seconds before one LLM request is given up (then retried)",
    # keys of the endpoint-outage and input-size settings (issue 9), documented here too
    "max_outage": "seconds an endpoint may be down before the run stops incomplete (exit 75)",
    "outage_after_failures": "failed attempts in a row after which requests pause for probes",
    "outage_probe_delay": "first delay in seconds between outage probes (doubling)",
    "outage_max_probe_delay": "longest delay in seconds between outage probes",
    "max_line_bytes": "longest input line (JSONL) or field (CSV) accepted, in bytes",
    "temperature": "sampling temperature of the chat model",
    "llm_cache": "cache LLM answers in the run folder, so a rerun never pays twice",
    "llm_cache_path": "the LLM cache file; empty = <out>/llm_cache.sqlite",
    "query_timeout": "seconds one SQL query may run on a database",
    "max_rows": "rows kept from one query result",
    "generate_num": "generate: SQL queries generated per database",
    "num_variations": "refine: variations written per SQL",
    "question_candidates": "questions sampled per SQL (the most consistent one is kept)",
    "cot_samples": "chain-of-thought answers sampled per question (voted by execution)",
    "execution_generations": "answers sampled to grade a question's execution difficulty",
    "min_valid_candidates": "CoT answers that must run and agree before a row is kept",
    "execution_solver": "who answers when grading execution difficulty: \"prompt\" (the LLM) "
                        "or \"engine\" (the content-aware engine)",
    "sql_source": "where SQL comes from: llm, grammar (sampled from the schema graph and the "
                  "stored values, no model), mixed (both, deduplicated; the LLM sees sampled "
                  "examples; refine: adds sampled variations); auto = grammar without base_url, "
                  "llm with one",
    "hardness_mix": "grammar SQL: weights over Spider hardness, e.g. [\"easy=1\", \"extra=2\"]; "
                    "[] = even",
    "question_source": "where questions come from: llm, or canonical (template questions "
                       "written from the SQL, correct by construction, plain); auto = canonical "
                       "without base_url, llm with one",
    "cot_source": "where reasoning comes from: llm, or canonical (steps written from the SQL); "
                  "auto = canonical without base_url, llm with one",
    "paraphrase": "rewrite canonical questions with a model, kept only when verified: on, off, "
                  "auto (on when a model can run here)",
    "max_revisions": "engine: revision rounds after a failed or empty first SQL",
    "allow_privileged_account": "connect even as an account that can reach outside the "
                                "database (server files, programs, settings); refused by "
                                "default",
    "allowed_functions": "SQL functions allowed beyond the built-in side-effect-free allowlist "
                         "(by name; model-written SQL is refused any other function)",
    "question_checks": "reject questions that name SQL, copy it, ask back, are fragments or "
                       "unfilled placeholders, before the LLM judge",
    "roundtrip": "verify each row by round trip: an independent solver must reach the row's "
                 "result from the question",
    "roundtrip_min_agree": "solver answers that must return the row's result (0 = a quarter of "
                           "execution_generations)",
    "roundtrip_policy": "evidence: reject a row only when the solver's answers converge on "
                        "another result or the judge's NO is not overruled (hard questions "
                        "are kept); agreement: reject below roundtrip_min_agree",
    "reasoning_check": "keep only reasoning whose text names the tables and values its final "
                       "SQL uses and quotes no other value (a structural check; agree policy)",
    "neighbour_databases": "perturbed copies of each SQLite database (rows dropped and "
                           "duplicated, numbers moved) on which a reasoning answer's SQL must "
                           "still return the row's result (0 = off; server sources: none yet)",
    "cot_policy": "reasoning kept: agree (its SQL returns the row's result), adopt_majority, or "
                  "replace (the old behaviour)",
    "dedup_by_meaning": "duplicates by meaning: SQL differing only in aliases, layout or "
                        "literals counts as one",
    "synthesis_reject_results": "generate: degenerate results rejected (empty, all_null, "
                                "truncated)",
    "refine_reject_results": "refine: degenerate results rejected in the model's rewrites",
    "refine_check_original_results": "refine: check the input rows' own results too",
    "executor": "local (one process) or ray (shards as tasks on a Ray cluster)",
    "ray_address": "the Ray cluster to join (empty = a private local one)",
    "workers": "Ray: shards run at once",
    "shard": "i/N: run only shard i of N into <out>/shard-i-of-N (then sqlsynth merge)",
}


def toml_value(value: Any) -> str:
    """One value as TOML text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return f"[{', '.join(_toml_str(v) for v in value)}]"
    return _toml_str(value)


def _toml_str(value: Any) -> str:
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise FileNotFoundError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: invalid TOML: {exc}") from None
    section = data.get("sqlsynth", data)
    if not isinstance(section, dict):
        raise TypeError(f"{path}: expected a table of settings")
    return section


def settings_markdown() -> str:
    """The README's settings page: every environment variable and config key, with defaults."""
    lines = ["| environment variable | what it sets |", "|---|---|"]
    lines += [f"| `{name}` | {text} |" for name, text in ENVIRONMENT.items()]
    lines += ["", "| config key | default | what it sets |", "|---|---|---|"]
    for key, value in asdict(RunConfig()).items():
        lines.append(f"| `{key}` | `{toml_value(value)}` | {KEY_HELP.get(key, '')} |")
    return "\n".join(lines)


if __name__ == "__main__":  # regenerate the README's settings page: python -m sqlsynth.config
    print(settings_markdown())
