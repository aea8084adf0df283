"""Bundled example databases and input files, located through importlib.resources.

The files ship as package data, so these helpers work from a source checkout and from an
installed wheel alike (zip imports are not supported: SQLite needs a real file).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

EXAMPLE_DB_IDS = ("retail_orders", "hospital_admissions", "regional_economy")


def _package_dir() -> Path:
    root = resources.files(__name__)
    path = Path(str(root))
    if not path.is_dir():
        raise RuntimeError(f"sqlsynth.examples is not on the file system ({root}); "
                           "install sqlsynth unzipped to use the bundled examples")
    return path


def example_db_root() -> Path:
    """Folder holding ``<db_id>/<db_id>.sqlite`` for every bundled example database."""
    return _package_dir() / "databases"


def example_file(name: str) -> Path:
    """Path of a bundled input file such as ``refine_input.jsonl``; raises if it is missing."""
    path = _package_dir() / name
    if not path.is_file():
        available = sorted(p.name for p in _package_dir().iterdir()
                           if p.suffix in (".jsonl", ".json", ".md"))
        raise FileNotFoundError(f"no bundled example file {name!r}; available: {available}")
    return path


__all__ = ["EXAMPLE_DB_IDS", "example_db_root", "example_file"]
