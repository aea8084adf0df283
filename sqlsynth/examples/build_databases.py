"""Rebuild the bundled example SQLite databases from fixed seeds.

Run ``python -m sqlsynth.examples.build_databases [--out DIR] [DB_ID ...]``. Output goes to
``DIR/<db_id>/<db_id>.sqlite`` (default: the package's own ``databases`` folder). Only the
standard library is used, so the files can be rebuilt anywhere and always come out the same.
"""

from __future__ import annotations

import argparse
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from sqlsynth.examples import _economy, _hospital, _retail
from sqlsynth.examples._tables import write_database

BUILDERS: dict[str, ModuleType] = {m.DB_ID: m for m in (_retail, _hospital, _economy)}
DEFAULT_OUT = Path(__file__).resolve().parent / "databases"


def build_database(db_id: str, out_dir: Path) -> Path:
    """Write one example database under ``out_dir`` and return its path."""
    try:
        module = BUILDERS[db_id]
    except KeyError:
        raise ValueError(f"unknown example database {db_id!r}; known: {sorted(BUILDERS)}")
    path = Path(out_dir) / db_id / f"{db_id}.sqlite"
    write_database(path, module.TABLES, module.build_rows())
    return path


def build_all(out_dir: Path = DEFAULT_OUT, db_ids: Sequence[str] | None = None) -> list[Path]:
    """Write every (or the named) example database; returns the written paths."""
    return [build_database(d, out_dir) for d in (db_ids or list(BUILDERS))]


def _row_count(path: Path) -> tuple[int, int]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return len(tables), sum(con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]
                                for t in tables)
    finally:
        con.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="root folder for <db_id>/<db_id>.sqlite (default: %(default)s)")
    parser.add_argument("db_ids", nargs="*", metavar="DB_ID",
                        help=f"databases to build (default: all of {', '.join(BUILDERS)})")
    args = parser.parse_args(argv)
    unknown = [d for d in args.db_ids if d not in BUILDERS]
    if unknown:
        parser.error(f"unknown example database(s) {unknown}; known: {', '.join(BUILDERS)}")
    for path in build_all(args.out, args.db_ids or None):
        tables, rows = _row_count(path)
        print(f"{path}: {tables} tables, {rows} rows, {path.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
