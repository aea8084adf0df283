"""Shared fixtures of the generation operator tests: a small real SQLite database and
in-process chat/embedding models that record what they were asked."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sqlsynth.operators.base import StepContext

SHOP_SQL = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER REFERENCES customers(id),
    amount REAL,
    placed_on TEXT
);
INSERT INTO customers VALUES (1, 'Ada', 'Leeds'), (2, 'Bo', 'York'), (3, 'Cy', 'Leeds');
INSERT INTO orders VALUES (1, 1, 12.5, '2024-01-03'), (2, 1, 40.0, '2024-02-11'),
                          (3, 2, 7.25, '2024-02-20');
"""

ZOO_SQL = """
CREATE TABLE animals (id INTEGER PRIMARY KEY, species TEXT, legs INTEGER);
INSERT INTO animals VALUES (1, 'heron', 2), (2, 'lynx', 4);
"""


def make_db_root(root: Path) -> Path:
    for name, script in (("shop", SHOP_SQL), ("zoo", ZOO_SQL)):
        folder = root / name
        folder.mkdir(parents=True)
        with sqlite3.connect(folder / f"{name}.sqlite") as conn:
            conn.executescript(script)
    return root


@pytest.fixture
def db_root(tmp_path: Path) -> Path:
    return make_db_root(tmp_path / "dbs")


@pytest.fixture
def dbm(db_root: Path) -> Any:
    from sqlsynth.db import DatabaseManager

    manager = DatabaseManager.from_path_or_url(str(db_root))
    yield manager
    manager.close()


@pytest.fixture
def ctx() -> StepContext:
    return StepContext(step_index=1, step_name="test_step", seed=7)


Responder = Callable[[str, int], "str | list[str] | BaseException"]


class FakeChat:
    """Duck-typed ChatModel: answers from ``responder(user_text, n)`` and records every call."""

    model = "fake-chat"

    def __init__(self, responder: Responder, delay: float = 0.0) -> None:
        self.responder = responder
        self.delay = delay
        self.calls: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def achat(self, messages: list[dict], *, n: int = 1, **params: Any) -> list[str]:
        self.calls.append({"messages": messages, "n": n, **params})
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        answer = self.responder(messages[-1]["content"], n)
        if isinstance(answer, BaseException):
            raise answer
        texts = [answer] if isinstance(answer, str) else list(answer)
        return [texts[i % len(texts)] for i in range(n)]


class FakeEmbeddings:
    """Duck-typed EmbeddingModel with hand-made vectors, so the medoid is known in advance."""

    model = "fake-embed"

    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self.vectors = vectors
        self.calls: list[list[str]] = []

    async def aembed(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        return [self.vectors[t] for t in texts]


@pytest.fixture
def fake_chat() -> type[FakeChat]:
    return FakeChat


@pytest.fixture
def fake_embeddings() -> type[FakeEmbeddings]:
    return FakeEmbeddings
