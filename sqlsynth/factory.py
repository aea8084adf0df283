"""Build the database manager and the model clients a run needs from its ``RunConfig``.

Kept apart from the pipeline classes so the CLI, the pipelines and the engine all make their
parts the same way: an endpoint when one is configured, the embedded local model otherwise.
"""

from __future__ import annotations

import os
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
        target, timeout=cfg.query_timeout, max_rows=cfg.max_rows,
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


def make_chat_model(cfg: RunConfig, cache: Any = None) -> Any:
    from sqlsynth.llm import LocalChat, OpenAIChat

    cache = cache if cache is not None else llm_cache(cfg)
    if cfg.base_url:
        return OpenAIChat(
            cfg.model,
            base_url=cfg.base_url,
            api_key_env=cfg.api_key_env,
            temperature=cfg.temperature,
            max_concurrency=cfg.concurrency,
            timeout=cfg.request_timeout,
            cache=cache,
            grammar_passthrough=cfg.grammar_passthrough,
        )
    # llama.cpp would use half the cores; reading long schema prompts is the local model's
    # bottleneck, so it gets them all unless told otherwise
    threads = cfg.local_threads or os.cpu_count() or 1
    return LocalChat(cfg.local_model_path or None, temperature=cfg.temperature, cache=cache,
                     n_threads=threads)


def make_engine(cfg: RunConfig, database_manager: Any, llm: Any, embeddings: Any) -> Any:
    """The content-aware engine, with its knowledge table and value index in the run folder."""
    from sqlsynth.engine import ContentAwareEngine

    return ContentAwareEngine(
        llm, database_manager, embeddings,
        knowledge_dir=str(Path(cfg.out) / "knowledge"),
        index_dir=str(Path(cfg.out) / "value_index"),
        max_revisions=cfg.max_revisions,
    )


def make_solver(cfg: RunConfig, database_manager: Any, llm: Any, embeddings: Any) -> Any:
    """The solver ``SQLExecutionClassifier`` grades with, by ``cfg.execution_solver``."""
    if cfg.execution_solver == "engine":
        return make_engine(cfg, database_manager, llm, embeddings)
    if cfg.execution_solver == "prompt":
        return None  # the classifier's own PromptSolver
    raise ValueError(f"execution_solver must be 'prompt' or 'engine', got {cfg.execution_solver!r}")


LOCAL_EMBEDDINGS = "local"  # embedding_base_url value: the embedded model beside an endpoint


def make_embedding_model(cfg: RunConfig, cache: Any = None) -> Any:
    from sqlsynth.llm import LocalEmbeddings, OpenAIEmbeddings

    cache = cache if cache is not None else llm_cache(cfg)
    base_url = cfg.embedding_base_url or cfg.base_url
    if base_url and base_url != LOCAL_EMBEDDINGS:
        return OpenAIEmbeddings(
            cfg.embedding_model,
            base_url=base_url,
            api_key_env=cfg.api_key_env,
            max_concurrency=cfg.concurrency,
            timeout=cfg.request_timeout,
            cache=cache,
        )
    return LocalEmbeddings(cache=cache)
