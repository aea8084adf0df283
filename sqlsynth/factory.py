"""Build the database manager and the model clients a run needs from its ``RunConfig``.

Kept apart from the pipeline classes so the CLI, the pipelines and the engine all make their
parts the same way: an endpoint when one is configured, the embedded local model otherwise.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from sqlsynth.config import RunConfig


def example_databases() -> str:
    """The bundled example databases (shipped inside the package; nothing is downloaded)."""
    from sqlsynth.examples import example_db_root

    return str(example_db_root())


def make_database_manager(cfg: RunConfig) -> Any:
    from sqlsynth.db import DatabaseManager

    target = cfg.db or example_databases()
    manager = DatabaseManager.from_path_or_url(
        target,
        timeout=cfg.query_timeout,
        max_rows=cfg.max_rows,
        allowed_functions=cfg.allowed_functions,
        allow_privileged_account=cfg.allow_privileged_account,
    )
    if cfg.db_ids:
        manager.select_databases(cfg.db_ids)
    return manager


def llm_cache(cfg: RunConfig) -> Any:
    """One response cache per run folder, shared by chat and embeddings (None = off)."""
    if not cfg.llm_cache:
        return None
    from sqlsynth.llm import ResponseCache

    path = Path(cfg.llm_cache_path or Path(cfg.out) / "llm_cache.sqlite")
    path.parent.mkdir(parents=True, exist_ok=True)
    return ResponseCache(path)


def outage_policy(cfg: RunConfig) -> Any:
    """How the run's endpoint clients ride out an outage (``sqlsynth.llm.outage``)."""
    from sqlsynth.llm.outage import OutagePolicy

    return OutagePolicy(failures_to_pause=cfg.outage_after_failures, max_outage=cfg.max_outage,
                        probe_delay=cfg.outage_probe_delay,
                        max_probe_delay=cfg.outage_max_probe_delay)

def request_limit(cfg: RunConfig) -> Any:
    """The run's one bound on LLM requests in flight, shared by its chat and embedding clients."""
    from sqlsynth.llm.limits import RequestLimit

    return RequestLimit(max(1, cfg.concurrency))


def make_models(cfg: RunConfig, cache: Any = None) -> tuple[Any, Any]:
    """The chat and embedding models of a run: one cache and ``cfg.concurrency`` in all."""
    cache = cache if cache is not None else llm_cache(cfg)
    limit = request_limit(cfg)
    return make_chat_model(cfg, cache, limit), make_embedding_model(cfg, cache, limit)


def make_chat_model(cfg: RunConfig, cache: Any = None, limit: Any = None) -> Any:
    from sqlsynth.llm import LocalChat, OpenAIChat

    cache = cache if cache is not None else llm_cache(cfg)
    if cfg.base_url:
        from sqlsynth.preflight import resolve_model

        return OpenAIChat(
            resolve_model("chat", cfg.base_url, cfg),
            base_url=cfg.base_url,
            api_key_env=cfg.api_key_env,
            temperature=cfg.temperature,
            max_concurrency=cfg.concurrency,
            timeout=cfg.request_timeout,
            cache=cache,
            grammar_passthrough=cfg.grammar_passthrough,
            outage=outage_policy(cfg),
            limit=limit,
        )
    # llama.cpp would use half the cores; reading long schema prompts is the local model's
    # bottleneck, so it gets them all unless told otherwise
    threads = cfg.local_threads or os.cpu_count() or 1
    note_local_model(cfg)
    return LocalChat(cfg.local_model_path or None, temperature=cfg.temperature, cache=cache,
                     n_threads=threads)


_noted_local_model = False


def note_local_model(cfg: RunConfig) -> None:
    """Say once per process, on stderr, that the embedded model answers and what it is for."""
    global _noted_local_model
    if _noted_local_model:
        return
    _noted_local_model = True
    which = cfg.local_model_path or "the bundled SmolLM2-135M"
    print(f"note: no --base-url, so {which} runs on this CPU: fine for trying sqlsynth out, "
          f"slow and weak for real data; use an endpoint with --base-url URL [--model NAME] "
          f"(or base_url in sqlsynth.toml, or $SQLSYNTH_BASE_URL)", file=sys.stderr)


def make_engine(cfg: RunConfig, database_manager: Any, llm: Any, embeddings: Any) -> Any:
    """The content-aware engine, with its knowledge table and value index in the run folder."""
    from sqlsynth.engine import ContentAwareEngine

    return ContentAwareEngine(
        llm, database_manager, embeddings,
        knowledge_dir=str(Path(cfg.out) / "knowledge"),
        index_dir=str(Path(cfg.out) / "value_index"),
        max_revisions=cfg.max_revisions,
    )


def make_engine_for(cfg: RunConfig) -> Any:
    """The engine with its own database manager and models (one cache, one concurrency)."""
    chat, embeddings = make_models(cfg)
    return make_engine(cfg, make_database_manager(cfg), chat, embeddings)


def make_solver(cfg: RunConfig, database_manager: Any, llm: Any, embeddings: Any) -> Any:
    """The solver ``SQLExecutionClassifier`` grades with, by ``cfg.execution_solver``."""
    if cfg.execution_solver == "engine":
        return make_engine(cfg, database_manager, llm, embeddings)
    if cfg.execution_solver == "prompt":
        return None  # the classifier's own PromptSolver
    raise ValueError(f"execution_solver must be 'prompt' or 'engine', got {cfg.execution_solver!r}")


def make_executor(cfg: RunConfig) -> Any:
    """The executor ``cfg.executor`` names: local streaming (the default) or Ray."""
    if cfg.executor == "ray":
        from sqlsynth.executors.ray import RayExecutor

        return RayExecutor(cfg.ray_address or None, workers=cfg.workers)
    if cfg.executor == "local":
        from sqlsynth.executors.local import LocalExecutor

        return LocalExecutor()
    raise ValueError(f"executor must be 'local' or 'ray', got {cfg.executor!r}")


LOCAL_EMBEDDINGS = "local"  # embedding_base_url value: the embedded model beside an endpoint


def make_embedding_model(cfg: RunConfig, cache: Any = None, limit: Any = None) -> Any:
    from sqlsynth.llm import LocalEmbeddings, OpenAIEmbeddings

    cache = cache if cache is not None else llm_cache(cfg)
    base_url = cfg.embedding_base_url or cfg.base_url
    if base_url and base_url != LOCAL_EMBEDDINGS:
        from sqlsynth.preflight import resolve_model

        return OpenAIEmbeddings(
            resolve_model("embeddings", base_url, cfg),
            base_url=base_url,
            api_key_env=cfg.api_key_env,
            max_concurrency=cfg.embedding_concurrency or cfg.concurrency,
            timeout=cfg.request_timeout,
            cache=cache,
            outage=outage_policy(cfg),
            limit=limit,
        )
    return LocalEmbeddings(cache=cache)


def has_rows(database_manager: Any, db_id: str) -> bool:
    """Whether any table of the database holds a row (an empty one has nothing to ask about)."""
    try:
        tables = database_manager.get_schema(db_id).tables
    except Exception:  # noqa: BLE001 - a broken database is its operators' to report
        return True
    for table in tables:
        result = database_manager.sample_rows(db_id, table.name, 1)
        if not getattr(result, "ok", True) or result.rows:
            return True
    return False


def skip_empty_databases(database_manager: Any) -> list[str]:
    """Leave out databases without any row; returns their ids. None left is an error."""
    known = database_manager.list_databases()
    empty = [db_id for db_id in known if not has_rows(database_manager, db_id)]
    if empty and len(empty) == len(known):
        raise ValueError(f"no database with data: {', '.join(empty)} have no tables with rows")
    if empty:
        database_manager.select_databases([d for d in known if d not in empty])
    return empty
