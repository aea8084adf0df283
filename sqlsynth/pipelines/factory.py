"""Build the database manager and the model clients a run needs from its ``RunConfig``.

Kept apart from the pipeline classes so the CLI, the pipelines and the engine all make their
parts the same way: an endpoint when one is configured, the embedded local model otherwise.
"""

from __future__ import annotations

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
        target, timeout=cfg.query_timeout, max_rows=cfg.max_rows
    )
    if cfg.db_ids:
        manager.select_databases(cfg.db_ids)
    return manager


def llm_cache_path(cfg: RunConfig) -> str | None:
    if not cfg.llm_cache:
        return None
    return cfg.llm_cache_path or str(Path(cfg.out) / "llm_cache.sqlite")


def make_chat_model(cfg: RunConfig) -> Any:
    from sqlsynth.llm import LocalChat, OpenAIChat

    cache_path = llm_cache_path(cfg)
    if cfg.base_url:
        return OpenAIChat(
            base_url=cfg.base_url,
            model=cfg.model,
            api_key_env=cfg.api_key_env,
            max_concurrency=cfg.concurrency,
            timeout=cfg.request_timeout,
            cache_path=cache_path,
        )
    return LocalChat(model_path=cfg.local_model_path or None, cache_path=cache_path)


def make_embedding_model(cfg: RunConfig) -> Any:
    from sqlsynth.llm import LocalEmbeddings, OpenAIEmbeddings

    cache_path = llm_cache_path(cfg)
    base_url = cfg.embedding_base_url or cfg.base_url
    if base_url:
        return OpenAIEmbeddings(
            base_url=base_url,
            model=cfg.embedding_model,
            api_key_env=cfg.api_key_env,
            max_concurrency=cfg.concurrency,
            timeout=cfg.request_timeout,
            cache_path=cache_path,
        )
    return LocalEmbeddings(cache_path=cache_path)
