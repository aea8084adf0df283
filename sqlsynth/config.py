"""One source of truth for a run's settings.

Values come from, in increasing precedence: the defaults below, a TOML config file
(``sqlsynth.toml``, written by ``sqlsynth init``), environment variables for the endpoint, and
command-line flags. Pipelines and the CLI read only a ``RunConfig``.
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
    file_name_prefix: str = "sqlsynth"
    cache_type: str = "jsonl"
    seed: int = 42

    # LLM endpoint; empty base_url means the embedded local model
    base_url: str = ""
    model: str = "gpt-4o-mini"
    api_key_env: str = "OPENAI_API_KEY"
    embedding_base_url: str = ""
    embedding_model: str = "text-embedding-3-small"
    local_model_path: str = ""  # any GGUF file; empty = the bundled SmolLM2-135M
    local_threads: int = 0  # CPU threads for the local model; 0 = every core
    # send output-format grammars to the endpoint (llama.cpp's server understands them)
    grammar_passthrough: bool = False
    concurrency: int = 32
    request_timeout: float = 120.0
    temperature: float = 0.8
    llm_cache: bool = True
    llm_cache_path: str = ""  # empty = <out>/llm_cache.sqlite

    # database safety limits
    query_timeout: float = 10.0
    max_rows: int = 10_000
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

    # content-aware engine (ask, eval --questions, --solver engine): revision rounds after the
    # first SQL when it fails or returns no rows
    max_revisions: int = 3

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None, **overrides: Any) -> RunConfig:
        """Defaults < config file < environment < explicit overrides (None means unset)."""
        cfg = cls()
        file_path = Path(path) if path else Path(CONFIG_FILE_NAME)
        if path or file_path.exists():
            cfg = cfg.merged(_read_toml(file_path))
        env = {
            "base_url": os.environ.get("SQLSYNTH_BASE_URL") or os.environ.get("OPENAI_BASE_URL"),
            "model": os.environ.get("SQLSYNTH_MODEL"),
        }
        cfg = cfg.merged({k: v for k, v in env.items() if v})
        return cfg.merged({k: v for k, v in overrides.items() if v is not None})

    def merged(self, values: dict[str, Any]) -> RunConfig:
        known = {f.name: f for f in fields(self)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown configuration key(s): {', '.join(unknown)}")
        data = asdict(self)
        data.update(values)
        return RunConfig(**data)

    def to_toml(self) -> str:
        lines = []
        for key, value in asdict(self).items():
            if isinstance(value, bool):
                lines.append(f"{key} = {'true' if value else 'false'}")
            elif isinstance(value, (int, float)):
                lines.append(f"{key} = {value}")
            elif isinstance(value, list):
                lines.append(f"{key} = [{', '.join(_toml_str(v) for v in value)}]")
            else:
                lines.append(f"{key} = {_toml_str(value)}")
        return "\n".join(lines) + "\n"


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
