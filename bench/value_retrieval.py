"""Value retrieval benchmark: how well and how fast stored values are found from mentions.

Part 1 (recall): mentions of stored values from the example databases -- the paraphrases of
sqlsynth/examples/value_mentions.jsonl plus generated case, spacing, abbreviation and typo
variants of sampled stored values -- are looked up in their (table, column) by
  * the value index's fuzzy lookup (ranked by similarity), and
  * the paper's plain probes on the live database: `= mention`, then `LIKE '%mention%'`
    (hits ranked exact first, then shortest).
It prints recall@1 and recall@5 of the stored value, per kind of mention.

Part 2 (latency): a synthetic table of 10k / 100k / 1M rows (example values replicated and
perturbed) in a temporary SQLite file; it prints the mean time of a probe (exact and LIKE)
through the safe executor versus through the value index, and the index build time.

Figures only, no assertions. `--quick` runs a small version (10k/100k rows).
Run: .venv/bin/python bench/value_retrieval.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a source checkout

from sqlsynth.db import DatabaseManager
from sqlsynth.engine.probes import Probe, probe_sql
from sqlsynth.engine.value_index import ValueIndex
from sqlsynth.examples import EXAMPLE_DB_IDS, example_db_root, example_file


# -- part 1: recall -------------------------------------------------------------------------
def variants(value: str) -> dict[str, str]:
    """Generated mentions of a stored value, by kind; kinds that change nothing are left out."""
    out: dict[str, str] = {"lower": value.lower(), "upper": value.upper()}
    words = value.split()
    if len(words) > 1:
        out["spacing"] = "".join(words)
        out["abbreviation"] = "".join(w[0] for w in words if w[0].isalnum()).upper()
    else:
        split = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", value)
        if split != value:
            out["spacing"] = split
        if len(value) > 5:
            out["abbreviation"] = value[:4] + "."
    if len(value) > 4:
        mid = len(value) // 2
        out["typo"] = value[: mid - 1] + value[mid] + value[mid - 1] + value[mid + 1 :]
    return {kind: text for kind, text in out.items() if text != value and text.strip()}


def build_items(dbm: DatabaseManager, indexes: dict[str, ValueIndex], per_column: int,
                rng: random.Random) -> tuple[list[dict], int]:
    items, skipped = [], 0
    for line in example_file("value_mentions.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if not isinstance(row["stored_value"], str) or \
                not indexes[row["db_id"]].covers(row["table"], row["column"]):
            skipped += 1  # numeric codes (e.g. discontinued = 1) are not text lookups
            continue
        items.append({**row, "kind": f"paraphrase:{row['kind']}"})
    for db_id, index in indexes.items():
        for col in index.columns():
            if not col.indexed:
                continue
            res = dbm.execute(db_id, f'SELECT DISTINCT "{col.column}" FROM "{col.table}" '
                                     f'WHERE "{col.column}" IS NOT NULL', max_rows=100_000)
            values = sorted(v for (v,) in res.rows if isinstance(v, str) and len(v) > 1)
            for value in rng.sample(values, min(per_column, len(values))):
                base = {"db_id": db_id, "table": col.table, "column": col.column,
                        "stored_value": value}
                items.append({**base, "mention": value, "kind": "verbatim"})
                for kind, mention in variants(value).items():
                    items.append({**base, "mention": mention, "kind": kind})
    return items, skipped


def live_ranking(dbm: DatabaseManager, item: dict) -> list:
    ranked: list = []
    for skeleton in ("exact", "like"):
        probe = Probe("m", item["table"], item["column"], item["mention"], skeleton)
        res = dbm.execute(item["db_id"], probe_sql(probe, dbm.dialect), max_rows=1000)
        hits = sorted((row[0] for row in res.rows), key=lambda v: (len(str(v)), str(v)))
        ranked += [h for h in hits if h not in ranked]
    return ranked


def recall(dbm: DatabaseManager, indexes: dict[str, ValueIndex], items: list[dict]) -> None:
    table: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for item in items:
        target = item["stored_value"]
        fuzzy = [m.value for m in indexes[item["db_id"]].fuzzy(
            item["mention"], table=item["table"], column=item["column"], k=5)]
        live = live_ranking(dbm, item)
        for group in (item["kind"], "ALL"):
            row = table[group]
            row["n"].append(1)
            row["fuzzy@1"].append(int(fuzzy[:1] == [target]))
            row["fuzzy@5"].append(int(target in fuzzy[:5]))
            row["like@1"].append(int(live[:1] == [target]))
            row["like@5"].append(int(target in live[:5]))
    print(f"\n{'mention kind':32} {'n':>5} {'fuzzy@1':>8} {'fuzzy@5':>8} {'LIKE@1':>8} "
          f"{'LIKE@5':>8}")
    for group in sorted(table, key=lambda g: (g == "ALL", g)):
        row = table[group]
        cells = [statistics.mean(row[k]) for k in ("fuzzy@1", "fuzzy@5", "like@1", "like@5")]
        print(f"{group:32} {len(row['n']):>5} " + " ".join(f"{c:>8.3f}" for c in cells))


# -- part 2: latency ------------------------------------------------------------------------
def synthetic_db(path: Path, rows: int, seeds: list[str], rng: random.Random) -> list[str]:
    """items(name: ~rows/20 distinct perturbed values, city: ~500 distinct, code: 20)."""
    n_names = max(rows // 20, 1)
    names = [f"{rng.choice(seeds)} {rng.choice(['Ltd', 'Co', 'Group', 'Intl', ''])} {i}".strip()
             for i in range(n_names)]
    cities = [f"{rng.choice(seeds)}-{i}" for i in range(500)]
    codes = [f"C{i:02d}" for i in range(20)]
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, city TEXT, code TEXT,"
                 " amount REAL)")
    conn.executemany(
        "INSERT INTO items (name, city, code, amount) VALUES (?, ?, ?, ?)",
        ((names[i % n_names], cities[rng.randrange(500)], codes[i % 20], i * 0.5)
         for i in range(rows)),
    )
    conn.commit()
    conn.close()
    return names


def latency(sizes: list[int], probes_per_size: int, seeds: list[str], rng: random.Random) -> None:
    print(f"\n{'rows':>9} {'build s':>8} {'exact live ms':>14} {'exact index ms':>15} "
          f"{'LIKE live ms':>13} {'LIKE index ms':>14} {'fuzzy ms':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for rows in sizes:
            folder = Path(tmp) / f"synthetic_{rows}"
            folder.mkdir()
            db_file = folder / f"synthetic_{rows}.sqlite"
            names = synthetic_db(db_file, rows, seeds, rng)
            dbm = DatabaseManager.from_path_or_url(str(db_file), timeout=60.0)
            db_id = dbm.list_databases()[0]
            started = time.perf_counter()
            index = asyncio.run(ValueIndex.aopen_or_build(dbm, db_id, Path(tmp) / "idx",
                                                          max_distinct=100_000))
            build = time.perf_counter() - started
            timings: dict[str, list[float]] = defaultdict(list)
            for i in range(probes_per_size):
                name = rng.choice(names)
                # half present, half absent; every SQL text distinct so the executor's result
                # cache never answers
                exact = name if i % 2 == 0 else f"{name} missing {i}"
                start = rng.randrange(max(len(name) - 6, 1))
                like = name[start : start + 6] if i % 2 == 0 else f"zq{i}x{name[:4]}"
                needle = like
                for skeleton, value in (("exact", exact), ("like", like)):
                    probe = Probe("m", "items", "name", value, skeleton)
                    t0 = time.perf_counter()
                    res = dbm.execute(db_id, probe_sql(probe, "sqlite"), max_rows=21)
                    timings[f"{skeleton} live"].append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    found = index.lookup(probe)
                    timings[f"{skeleton} index"].append(time.perf_counter() - t0)
                    assert res.ok and found is not None
                    assert len(found) > 20 or sorted(found) == sorted(r[0] for r in res.rows)
                t0 = time.perf_counter()
                index.fuzzy(needle, table="items", column="name", k=5)
                timings["fuzzy"].append(time.perf_counter() - t0)
            ms = {k: 1000 * statistics.mean(v) for k, v in timings.items()}
            print(f"{rows:>9} {build:>8.2f} {ms['exact live']:>14.2f} {ms['exact index']:>15.3f} "
                  f"{ms['like live']:>13.2f} {ms['like index']:>14.3f} {ms['fuzzy']:>9.2f}")
            index.close()
            dbm.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run (10k/100k rows)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    per_column = 2 if args.quick else 6
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    probes = 10 if args.quick else 25

    with tempfile.TemporaryDirectory() as tmp:
        dbm = DatabaseManager.from_path_or_url(str(example_db_root()))
        indexes = {db: asyncio.run(ValueIndex.aopen_or_build(dbm, db, tmp)) for db in EXAMPLE_DB_IDS}
        items, skipped = build_items(dbm, indexes, per_column, rng)
        print(f"recall benchmark: {len(items)} mentions over {len(EXAMPLE_DB_IDS)} databases "
              f"({skipped} non-text paraphrases skipped)")
        recall(dbm, indexes, items)
        seeds = sorted({i["stored_value"] for i in items if len(i["stored_value"]) > 3})
        for index in indexes.values():
            index.close()
        dbm.close()
    latency(sizes, probes, seeds, rng)


if __name__ == "__main__":
    main()
