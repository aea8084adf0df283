"""Step fingerprints: the same configuration gives the same digest in any process; anything
that changes the output changes it; running state does not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlsynth.storage.fingerprint import describe_operator, digest, file_digest

ROOT = str(Path(__file__).resolve().parents[2])


class _Client:
    def __init__(self, model: str) -> None:
        self.model = model
        self.temperature = 0.7
        self.stats = {"requests": 0}  # changes while running: not plain enough to count
        self._cache: dict[str, Any] = {}


class _Operator:
    def __init__(self, model: str = "m1", num: int = 3, keys: list[str] | None = None) -> None:
        self.llm = _Client(model)
        self.num = num
        self.keys = keys or ["a", "b"]
        self._seen = 0


class _Manager:
    def __init__(self, dbs: list[str]) -> None:
        self.config = {"root": "/data"}
        self._dbs = dbs

    def list_databases(self) -> list[str]:
        return list(self._dbs)


class _Broken(_Manager):
    def list_databases(self) -> list[str]:
        raise ConnectionError("server away")


class _Custom:
    def __init__(self, value: int) -> None:
        self.value = value
        self.ignored = "anything"

    def config_fingerprint(self) -> object:
        return {"value": self.value}


def fp(op: Any) -> str:
    return digest(describe_operator(op))


def test_same_configuration_same_digest() -> None:
    assert fp(_Operator()) == fp(_Operator())
    assert len(fp(_Operator())) == 64


def test_digest_is_stable_across_processes() -> None:
    code = ("from sqlsynth.storage.fingerprint import digest; "
            "print(digest({'b': [1, 2.5, None], 'a': 'x'}, 3))")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={"PYTHONHASHSEED": seed, "PYTHONPATH": ROOT}).stdout
            for seed in ("1", "2")}
    assert runs == {digest({"a": "x", "b": [1, 2.5, None]}, 3) + "\n"}


def test_every_plain_setting_and_held_object_setting_counts() -> None:
    base = fp(_Operator())
    assert fp(_Operator(num=4)) != base
    assert fp(_Operator(keys=["a", "c"])) != base
    assert fp(_Operator(model="m2")) != base  # a plain value of a held client


def test_running_state_and_private_attributes_do_not_count() -> None:
    op = _Operator()
    before = fp(op)
    op._seen = 99
    op.llm.stats["requests"] = 42
    op.llm._cache["k"] = "v"
    assert fp(op) == before


def test_the_databases_a_manager_serves_count() -> None:
    def with_manager(manager: Any) -> str:
        op = _Operator()
        op.db = manager  # type: ignore[attr-defined]
        return fp(op)

    assert with_manager(_Manager(["a", "b"])) == with_manager(_Manager(["a", "b"]))
    assert with_manager(_Manager(["a", "b"])) != with_manager(_Manager(["a"]))
    assert with_manager(_Broken(["a"])) != with_manager(_Manager(["a"]))  # never reused


def test_config_fingerprint_decides_when_given() -> None:
    assert fp(_Custom(1)) != fp(_Custom(2))
    other = _Custom(1)
    other.ignored = "something else"
    assert fp(other) == fp(_Custom(1))


def test_the_operator_class_counts() -> None:
    class _Same(_Operator):
        pass

    assert fp(_Same()) != fp(_Operator())


def test_file_digest_follows_content(tmp_path: Path) -> None:
    path = tmp_path / "input.jsonl"
    assert file_digest(path) == "absent"
    path.write_text('{"a": 1}\n', encoding="utf-8")
    first = file_digest(path)
    assert first == file_digest(path)
    path.write_text('{"a": 2}\n', encoding="utf-8")
    assert file_digest(path) != first
