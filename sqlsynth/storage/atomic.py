"""The one way sqlsynth writes a file: a temporary sibling, ``fsync``, then ``os.replace``.

A reader (or a resumed run) sees the old file or the whole new one, never half of one.
``write_bytes_atomic`` writes bytes; ``atomic_path`` lends a temporary path to code that
builds the file itself (a SQLite database, a parquet file). Temporary files are named
``.<name>.<random>.tmp`` so ``remove_stale_temp_files`` can clear what a killed write left.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _temp_beside(target: Path) -> tuple[int, Path]:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    return fd, Path(name)


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write via a temporary file in the same directory, fsync, then rename over ``path``."""
    target = Path(path)
    fd, tmp = _temp_beside(target)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A fresh temporary path beside ``path``; renamed over ``path`` when the block succeeds.

    The file exists (empty) when the block starts; on an error it is removed and ``path``
    is left as it was.
    """
    target = Path(path)
    fd, tmp = _temp_beside(target)
    os.close(fd)
    try:
        yield tmp
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def remove_stale_temp_files(directory: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files an interrupted atomic write left in ``directory``
    (``.<name>.<random>.tmp``); called when a run starts there. Returns what was removed."""
    removed: list[Path] = []
    folder = Path(directory)
    if not folder.is_dir():
        return removed
    for candidate in folder.glob(".*.tmp"):
        if candidate.is_file():
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
