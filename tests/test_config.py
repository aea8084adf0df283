"""Settings: where each value comes from, the commented init file, the README's settings page,
and help for every flag."""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from sqlsynth.cli import build_parser, main
from sqlsynth.config import ENVIRONMENT, KEY_HELP, RunConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

README = Path(__file__).resolve().parents[1] / "README.md"


def test_config_show_names_the_source_of_each_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sqlsynth.toml").write_text('generate_num = 7\nmodel = "from-file"\n')
    monkeypatch.setenv("SQLSYNTH_MODEL", "from-env")
    monkeypatch.delenv("SQLSYNTH_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert main(["config", "show", "--seed", "3"]) == 0
    lines = {line.split("=")[0].strip(): line for line in capsys.readouterr().out.splitlines()
             if "=" in line and not line.startswith("#")}
    assert set(lines) == {f.name for f in fields(RunConfig)}
    assert "7" in lines["generate_num"] and "toml file sqlsynth.toml" in lines["generate_num"]
    assert '"from-env"' in lines["model"] and "env $SQLSYNTH_MODEL" in lines["model"]
    assert "3" in lines["seed"] and "# flag" in lines["seed"]
    assert "# default" in lines["temperature"]


def test_an_applied_local_toml_is_announced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sqlsynth.toml").write_text("generate_num = 1\n")
    assert main(["schema", "--db-id", "retail_orders"]) == 0
    assert "applying settings from sqlsynth.toml" in capsys.readouterr().err


def test_init_toml_explains_every_key_and_loads(tmp_path: Path) -> None:
    assert main(["init", "--dir", str(tmp_path)]) == 0
    text = (tmp_path / "sqlsynth.toml").read_text()
    lines = text.splitlines()
    keys = {f.name for f in fields(RunConfig)}
    for index, line in enumerate(lines):
        key = line.split("=")[0].strip()
        if key in keys and not line.startswith("#"):
            assert lines[index - 1] == f"# {KEY_HELP[key]}", key
            keys.discard(key)
    assert not keys, f"keys missing from the init file: {keys}"
    for name in ENVIRONMENT:
        assert name in text
    loaded = RunConfig().merged(tomllib.loads(text))
    assert loaded.generate_num == 10  # sized to finish in minutes


def test_readme_lists_every_key_and_environment_variable() -> None:
    from sqlsynth.config import settings_markdown

    text = README.read_text(encoding="utf-8")
    stale = "README settings page is stale: regenerate it with python -m sqlsynth.config"
    for line in settings_markdown().splitlines():
        assert line in text, stale
    for key in (f.name for f in fields(RunConfig)):
        assert f"`{key}`" in text
    for name in ENVIRONMENT:
        assert f"`{name}`" in text


def test_every_config_key_has_help() -> None:
    assert {f.name for f in fields(RunConfig)} <= set(KEY_HELP)


def test_every_flag_has_help_and_config_flags_show_their_default() -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in subparsers.choices.items():
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"sqlsynth {name} {action.option_strings or action.dest}"
            configured = name not in ("demo", "export", "init") and not action.required
            if action.option_strings and action.dest in KEY_HELP and configured:
                assert "default" in action.help, f"{name} {action.option_strings}"


#: modules that read the environment themselves, and why (docs/ARCHITECTURE.md, "Environment
#: variables"); every other module gets its settings from the loaded RunConfig
ENV_READERS = {
    "config.py": "RunConfig.load: the one place a run's settings come from the environment",
    "llm/config.py": "the API key by the variable's name; the base URL for library use",
    "llm/serving.py": "model names for the reference-style constructors used without a config",
    "llm/cache.py": "the cache folder of library code outside a run",
    "llm/local.py": "HF_HUB_OFFLINE for the bundled models (process-level, third-party)",
    "progress.py": "the display of the process, and third-party libraries' progress flags",
    "viewer/pricing.py": "the price table of view/report",
    "executors/ray.py": "PYTHONPATH handed to Ray workers",
    "testing/fault_runs.py": "the environment of CLI subprocesses in tests",
}


def test_only_the_documented_modules_read_the_environment() -> None:
    import re

    package = Path(__file__).resolve().parents[1] / "sqlsynth"
    readers = {str(p.relative_to(package)) for p in package.rglob("*.py")
               if re.search(r"os\.environ|getenv\(", p.read_text(encoding="utf-8"))}
    assert readers <= set(ENV_READERS), sorted(readers - set(ENV_READERS))
    names = {m for p in package.rglob("*.py")
             for m in re.findall(r"[\"'](SQLSYNTH_[A-Z_]+)[\"']", p.read_text(encoding="utf-8"))}
    assert names <= set(ENVIRONMENT), sorted(names - set(ENVIRONMENT))
