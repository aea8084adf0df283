"""The one atomic write helper: the old file or the whole new one, never half."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlsynth.storage.atomic import atomic_path, remove_stale_temp_files, write_bytes_atomic


def test_write_replaces_whole_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.jsonl"
    write_bytes_atomic(target, b"one\n")
    write_bytes_atomic(target, b"two\n")
    assert target.read_bytes() == b"two\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.jsonl"]


def test_a_failed_build_keeps_the_old_file_and_removes_the_temporary(tmp_path: Path) -> None:
    target = tmp_path / "index.sqlite"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed mid-build")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.sqlite"]


def test_atomic_path_renames_what_the_block_built(tmp_path: Path) -> None:
    target = tmp_path / "data.parquet"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".data.parquet.")
        tmp.write_bytes(b"built")
        assert not target.exists()
    assert target.read_bytes() == b"built"


def test_stale_temporary_files_are_the_ones_removed(tmp_path: Path) -> None:
    (tmp_path / ".step1.jsonl.abc123.tmp").write_bytes(b"half")
    (tmp_path / "step1.jsonl").write_bytes(b"whole")
    removed = remove_stale_temp_files(tmp_path)
    assert [p.name for p in removed] == [".step1.jsonl.abc123.tmp"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step1.jsonl"]
    assert remove_stale_temp_files(tmp_path / "absent") == []
