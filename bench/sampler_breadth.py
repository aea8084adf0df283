"""Sampler breadth: sampled SQL on every Spider schema, filled with synthetic rows.

The bundled databases are three; Spider's ``tables.json`` (in ``../shared/data/spider``) holds
166 schemas written by other people: composite keys, text keys, odd and reserved names,
tables without keys. Each becomes a SQLite database (its tables, primary and foreign keys, 12
rows of plain synthetic values per table), and ``sample_queries`` asks each for ``--num``
queries in the even hardness mix. Printed: databases, queries, queries per second (schema
and value reads included), the level counts, the databases whose mix fell short, and any
statement that fails when run again through the manager. Prints figures; asserts nothing.

    python bench/sampler_breadth.py [--num 8] [--limit 0] [--tables PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import random
import sqlite3
import tempfile
import time
from pathlib import Path

from sqlsynth.db import DatabaseManager
from sqlsynth.sampling import sample_queries
from sqlsynth.sql.hardness import HARDNESS_LEVELS

TABLES = Path(__file__).resolve().parents[1] / "../shared/data/spider/tables.json"
TYPES = {"number": "INTEGER", "text": "TEXT", "time": "TEXT", "boolean": "INTEGER",
         "others": "TEXT"}
WORDS = ("alpha one", "beta two", "gamma", "delta four", "Smith", "New York")
ROWS = 12


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _value(kind: str, is_key: bool, k: int, rng: random.Random) -> object:
    if is_key:
        return k + 1 if kind == "number" else f"key {k}"
    if rng.random() < 0.1:
        return None
    if kind in ("number", "boolean"):
        return rng.randint(0, 1) if kind == "boolean" else rng.randint(1, 500)
    if kind == "time":
        return f"20{rng.randint(10, 23)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
    return rng.choice(WORDS)


def build(spec: dict, root: Path) -> bool:
    """One Spider schema as a SQLite database with synthetic rows (False: SQLite refuses it)."""
    db = spec["db_id"]
    rng = random.Random(db)
    cols, types = spec["column_names_original"], spec["column_types"]
    pks = {c for p in spec["primary_keys"] for c in (p if isinstance(p, list) else [p])}
    fks = collections.defaultdict(list)
    for c, r in spec["foreign_keys"]:
        fks[cols[c][0]].append((c, r))
    (root / db).mkdir()
    conn = sqlite3.connect(root / db / f"{db}.sqlite")
    try:
        for ti, name in enumerate(spec["table_names_original"]):
            mine = [i for i, (t, _) in enumerate(cols) if t == ti]
            keys = pks | {c for c, _ in fks[ti]}
            body = [f"{_q(cols[i][1])} {TYPES[types[i]]}" for i in mine]
            if [i for i in mine if i in pks]:
                body.append("PRIMARY KEY (" + ", ".join(_q(cols[i][1]) for i in mine
                                                        if i in pks) + ")")
            body += [f"FOREIGN KEY ({_q(cols[c][1])}) REFERENCES "
                     f"{_q(spec['table_names_original'][cols[r][0]])} ({_q(cols[r][1])})"
                     for c, r in fks[ti]]
            conn.execute(f"CREATE TABLE {_q(name)} ({', '.join(body)})")
            for k in range(ROWS):
                row = [_value(types[i], i in keys, k, rng) for i in mine]
                conn.execute(f"INSERT OR IGNORE INTO {_q(name)} VALUES "
                             f"({', '.join('?' * len(mine))})", row)
        conn.commit()
        return True
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--num", type=int, default=8, help="queries per database")
    parser.add_argument("--limit", type=int, default=0, help="first N schemas only (0: all)")
    parser.add_argument("--tables", default=str(TABLES), help="Spider's tables.json")
    args = parser.parse_args()
    specs = json.loads(Path(args.tables).read_text())
    specs = specs[: args.limit] if args.limit else specs
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        built = [s["db_id"] for s in specs if build(s, root)]
        manager = DatabaseManager("sqlite", {"root_path": str(root)})
        levels: collections.Counter[str] = collections.Counter()
        short: dict[str, dict[str, int]] = {}
        failing: list[tuple[str, str, str | None]] = []
        total = 0
        start = time.perf_counter()
        for db in built:
            queries = asyncio.run(sample_queries(manager, db, num=args.num, seed=1))
            total += len(queries)
            got = collections.Counter(q.hardness for q in queries)
            levels.update(got)
            if len(queries) < args.num:
                short[db] = dict(got)
            failing += [(db, q.sql, r.error) for q in queries
                        if not (r := manager.execute(db, q.sql)).ok]
        seconds = time.perf_counter() - start
        manager.close()
    print(f"schemas {len(specs)}, built {len(built)} (SQLite refused {len(specs) - len(built)})")
    print(f"queries {total} of {len(built) * args.num} in {seconds:.1f} s "
          f"({total / seconds:.1f} queries/s)")
    print("levels", {level: levels[level] for level in HARDNESS_LEVELS})
    print(f"databases short of --num: {len(short)}", dict(list(short.items())[:10]))
    print(f"statements failing on rerun: {len(failing)}", failing[:3])


if __name__ == "__main__":
    main()
