"""``sqlsynth init``: copy editable pipeline scripts and a config file into a folder."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from sqlsynth.config import CONFIG_FILE_NAME, RunConfig

SCRIPTS = ("text2sql_pipeline_gen.py", "text2sql_pipeline_refine.py")


CONFIG_HEADER = """\
# sqlsynth settings, read by the scripts next to this file and by every `sqlsynth` command
# run in this folder. Precedence: these values < environment variables < command-line flags;
# `sqlsynth config show` prints each effective value and where it came from.
# Environment variables:
{environment}
"""


def config_file_text() -> str:
    """The ``init`` config: every key with its one-line explanation, sized to finish fast."""
    from sqlsynth.config import ENVIRONMENT

    environment = "\n".join(f"#   {name}: {text}" for name, text in ENVIRONMENT.items())
    sized = RunConfig(generate_num=10, question_candidates=3, cot_samples=2,
                      execution_generations=5)
    return CONFIG_HEADER.format(environment=environment) + "\n" + sized.to_toml(commented=True)


def write_scaffold(target: Path, *, force: bool = False) -> list[Path]:
    """Write the scripts and ``sqlsynth.toml``; refuse to overwrite unless ``force``."""
    target.mkdir(parents=True, exist_ok=True)
    outputs = {name: resources.files("sqlsynth.templates").joinpath(name).read_text("utf-8")
               for name in SCRIPTS}
    outputs[CONFIG_FILE_NAME] = config_file_text()
    existing = [name for name in outputs if (target / name).exists()]
    if existing and not force:
        raise FileExistsError(f"{target}: already has {', '.join(existing)} (use --force)")
    written = []
    for name, text in outputs.items():
        path = target / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
