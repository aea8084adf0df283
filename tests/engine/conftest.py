"""Fixtures for engine tests: a private copy of the example databases and a stage script."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sqlsynth.db import DatabaseManager
from sqlsynth.engine import prompts
from sqlsynth.examples import example_db_root
from sqlsynth.testing.fake_openai import ScriptedOpenAIServer


@pytest.fixture
def db_root(tmp_path: Path) -> Path:
    """A copy, so indexes, checksums and edits never touch the bundled files."""
    root = tmp_path / "databases"
    shutil.copytree(example_db_root(), root)
    return root


@pytest.fixture
def dbm(db_root: Path) -> Iterator[DatabaseManager]:
    manager = DatabaseManager.from_path_or_url(str(db_root))
    yield manager
    manager.close()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sql_block(sql: str) -> str:
    return f"Here it is.\n```sql\n{sql}\n```"


class StageScript:
    """A responder that answers each engine stage from a script and records the prompts.

    `keywords` is the JSON payload for keyword extraction (or a raw string to send as is);
    `variants` maps a keyword to its proposed stored forms; `sql` lists the replies of the
    generation call followed by the revision calls, the last one repeating when exhausted.
    """

    def __init__(self, keywords: Any, variants: dict[str, list[str]] | None = None,
                 sql: list[str] | Callable[[dict], str] | None = None) -> None:
        self.keywords = keywords
        self.variants = variants or {}
        self.sql = sql if callable(sql) else list(sql or ["SELECT 1"])
        self.calls: Counter[str] = Counter()
        self.prompts: defaultdict[str, list[list[dict]]] = defaultdict(list)
        self._lock = threading.Lock()
        self._sql_index = 0

    def stage(self, messages: list[dict]) -> str:
        system = messages[0]["content"]
        for name, marker in (("keywords", prompts.KEYWORD_MARKER),
                             ("variants", prompts.VARIANT_MARKER),
                             ("generate", prompts.GENERATE_MARKER),
                             ("revise", prompts.REVISE_MARKER)):
            if system.startswith(marker):
                return name
        raise AssertionError(f"unknown prompt: {system[:80]!r}")

    def __call__(self, body: dict) -> list[str]:
        messages = body["messages"]
        stage = self.stage(messages)
        n = int(body.get("n") or 1)
        with self._lock:
            self.calls[stage] += 1
            self.prompts[stage].append(messages)
            if stage == "keywords":
                text = self.keywords if isinstance(self.keywords, str) \
                    else prompts.fenced_json(self.keywords)
                return [text] * n
            if stage == "variants":
                keyword = re.search(r"^Keyword: (.*)$", messages[-1]["content"],
                                    re.MULTILINE).group(1)
                return [prompts.fenced_json({"values": self.variants.get(keyword, [])})] * n
            if callable(self.sql):
                return [self.sql(body) for _ in range(n)]
            out = []
            for _ in range(n):
                out.append(sql_block(self.sql[min(self._sql_index, len(self.sql) - 1)]))
                self._sql_index += 1
            return out


@pytest.fixture
def scripted() -> Iterator[Callable[[StageScript], ScriptedOpenAIServer]]:
    """Start a scripted OpenAI-compatible server for a StageScript; stopped after the test."""
    servers: list[ScriptedOpenAIServer] = []

    def start(script: StageScript) -> ScriptedOpenAIServer:
        server = ScriptedOpenAIServer(responder=script).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def chat_client(server: ScriptedOpenAIServer) -> Any:
    from sqlsynth.llm.openai_client import OpenAIChat

    return OpenAIChat(server.model_name, base_url=server.base_url, api_key="test-key",
                      cache=None)


def embedding_client(server: ScriptedOpenAIServer) -> Any:
    from sqlsynth.llm.openai_client import OpenAIEmbeddings

    return OpenAIEmbeddings("scripted-embed", base_url=server.base_url, api_key="test-key",
                            cache=None)


def dumps(obj: Any) -> str:
    return json.dumps(obj, default=str)
