"""``sqlsynth init``: copy editable pipeline scripts and a config file into a folder."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from sqlsynth.config import CONFIG_FILE_NAME, RunConfig

SCRIPTS = ("text2sql_pipeline_gen.py", "text2sql_pipeline_refine.py")


def write_scaffold(target: Path, *, force: bool = False) -> list[Path]:
    """Write the scripts and ``sqlsynth.toml``; refuse to overwrite unless ``force``."""
    target.mkdir(parents=True, exist_ok=True)
    outputs = {name: resources.files("sqlsynth.templates").joinpath(name).read_text("utf-8")
               for name in SCRIPTS}
    outputs[CONFIG_FILE_NAME] = (
        "# sqlsynth settings; command-line flags override them.\n"
        "# base_url empty = the embedded local model; set it (and model) for an endpoint.\n"
        "# embedding_base_url empty = base_url; \"local\" = the embedded embedding model.\n"
        + RunConfig(generate_num=10).to_toml()
    )
    existing = [name for name in outputs if (target / name).exists()]
    if existing and not force:
        raise FileExistsError(f"{target}: already has {', '.join(existing)} (use --force)")
    written = []
    for name, text in outputs.items():
        path = target / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
