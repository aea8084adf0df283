"""Agreement of each ``sqlsynth eval --convention`` with its official script, per data set.

Data sets:
* ``../shared/data/spider/em_reference.json`` (1,944 pairs with Spider's official EM verdict)
  and ``dev_hardness.json`` (official hardness of the 1,034 dev queries), when present;
* ``tests/eval/data/spider_dev_pairs.jsonl`` (foreign keys from ``dev_tables.json``, the dev
  entries of Spider's tables.json): 7,444 pairs on generated databases with the
  verdicts of Spider's evaluation.py (EM, EX), test-suite-sql-eval (EX with and without
  DISTINCT, with a 3-database suite) and BIRD Mini-Dev (EX, Soft-F1);
* ``tests/eval/data/spider2/``: 700 predictions with Spider 2.0's table-comparison verdict.
How each verdict was measured: ``tests/eval/data/README.md``.

Run: ``python bench/spider_agreement.py [--sample N] [--verbose]``
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "eval" / "data"
SHARED_SPIDER = ROOT.parent / "shared" / "data" / "spider"


def build_databases(dumps: Path, root: Path) -> tuple[Path, Path]:
    """SQLite files from the dumps: ``root/dbs/<db_id>/<db_id>.sqlite`` and the suite folder
    ``root/suite/<db_id>/`` holding the database and its neighbours."""
    dbs, suite = root / "dbs", root / "suite"
    for dump in sorted(dumps.glob("*.sql")):
        db_id, _, tag = dump.name[:-4].partition(".")
        targets = [suite / db_id / (f"{db_id}.sqlite" if not tag else f"{db_id}_{tag}.sqlite")]
        if not tag:
            targets.append(dbs / db_id / f"{db_id}.sqlite")
        for target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(target)
            try:
                conn.execute("PRAGMA synchronous=OFF")  # throwaway files: no fsync per commit
                conn.execute("PRAGMA journal_mode=OFF")
                conn.executescript(dump.read_text(encoding="utf-8"))
                conn.commit()
            finally:
                conn.close()
    return dbs, suite


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


@dataclass
class Agreement:
    convention: str
    data_set: str
    metric: str
    agree: int
    total: int
    seconds: float
    misses: list[str]

    @property
    def rate(self) -> str:
        return f"{100 * self.agree / self.total:.1f} %" if self.total else "-"


def _compare(convention: str, data_set: str, metric: str, records: list[dict[str, Any]],
             theirs: Callable[[dict], Any], ours: list[Any], started: float) -> Agreement:
    agree, misses = 0, []
    for rec, mine in zip(records, ours):
        if theirs(rec) == mine:
            agree += 1
        else:
            misses.append(f"official={theirs(rec)!r} ours={mine!r} [{rec.get('db_id')}]\n"
                          f"    gold: {rec.get('gold')}\n    pred: {rec.get('pred')}")
    return Agreement(convention, data_set, metric, agree, len(records),
                     time.perf_counter() - started, misses)


def em_reference(tables: dict[str, dict[str, Any]]) -> list[Agreement]:
    """Spider EM on em_reference.json (schema and foreign keys from tables.json, as there)."""
    from sqlsynth.eval import EvalItem
    from sqlsynth.eval.conventions.runner import ConventionOptions, evaluate_convention

    path = SHARED_SPIDER / "em_reference.json"
    if not path.is_file():
        return []
    records = json.loads(path.read_text(encoding="utf-8"))
    started = time.perf_counter()
    items = [EvalItem(r["db_id"], r["gold"], r["pred"]) for r in records]
    report = evaluate_convention(items, "spider", ConventionOptions(tables=tables),
                                 etype="match")
    return [_compare("spider", "em_reference.json", "EM", records,
                     lambda r: r["exact_match"], [i.exact_match for i in report.items],
                     started)]


def hardness_reference() -> list[Agreement]:
    from sqlsynth.sql import SQLParseError, spider_hardness

    path = SHARED_SPIDER / "dev_hardness.json"
    if not path.is_file():
        return []
    records = json.loads(path.read_text(encoding="utf-8"))
    started = time.perf_counter()
    ours = []
    for r in records:
        try:
            ours.append(spider_hardness(r["query"]))
        except SQLParseError as err:
            ours.append(f"error: {err}")
    for r in records:
        r.setdefault("gold", r["query"])
    return [_compare("spider", "dev_hardness.json", "hardness", records,
                     lambda r: r["hardness"], ours, started)]


def pair_sets(dbs: Path, suite: Path, tables: dict[str, dict[str, Any]] | None,
              sample: int | None, only: str | None = None) -> list[Agreement]:
    from sqlsynth.eval import EvalItem
    from sqlsynth.eval.conventions.runner import ConventionOptions, evaluate_convention

    records = read_jsonl(DATA / "spider_dev_pairs.jsonl")
    if sample:
        records = records[::max(len(records) // sample, 1)]
    out: list[Agreement] = []
    for data_set in sorted({r["set"] for r in records}):
        recs = [r for r in records if r["set"] == data_set]

        def run(convention: str, opts: ConventionOptions, rs: list[dict[str, Any]],
                etype: str = "all") -> tuple[Any, float]:
            started = time.perf_counter()
            items = [EvalItem(r["db_id"], r["gold"], r["pred"]) for r in rs]
            return evaluate_convention(items, convention, opts, etype=etype), started

        def wanted(convention: str) -> bool:
            return only in (None, convention)

        base = ConventionOptions(db_root=dbs, tables=tables)
        have = [r for r in recs if "spider_em" in r and "spider_ex" in r and wanted("spider")]
        rep, t0 = run("spider", base, have)
        out.append(_compare("spider", data_set, "EM", have, lambda r: r["spider_em"],
                            [i.exact_match for i in rep.items], t0))
        out.append(_compare("spider", data_set, "EX", have, lambda r: r["spider_ex"],
                            [i.exec_match for i in rep.items], t0))
        for field, opts in (
                ("ts_ex", ConventionOptions(db_root=dbs)),
                ("ts_ex_keep_distinct", ConventionOptions(db_root=dbs, keep_distinct=True)),
                ("ts_ex_suite", ConventionOptions(db_root=dbs, suite_root=suite))):
            have = [r for r in recs if field in r and wanted("test-suite")]
            rep, t0 = run("test-suite", opts, have, etype="exec")
            out.append(_compare("test-suite", data_set, field.replace("ts_ex", "EX"), have,
                                lambda r, f=field: r[f], [i.exec_match for i in rep.items],
                                t0))
        have = [r for r in recs if "bird_ex" in r and wanted("bird")]
        rep, t0 = run("bird", ConventionOptions(db_root=dbs, with_ves=False), have)
        out.append(_compare("bird", data_set, "EX", have, lambda r: bool(r["bird_ex"]),
                            [i.exec_match for i in rep.items], t0))
        out.append(_compare("bird", data_set, "Soft-F1", have, lambda r: r["bird_f1"],
                            [i.soft_f1 for i in rep.items], t0))
    return out


def spider2_set(dbs: Path, sample: int | None) -> list[Agreement]:
    from sqlsynth.eval import EvalItem
    from sqlsynth.eval.conventions.runner import ConventionOptions, evaluate_convention

    base = DATA / "spider2"
    records = read_jsonl(base / "pairs.jsonl")
    if sample:
        records = records[::max(len(records) // sample, 1)]
    started = time.perf_counter()
    items = [EvalItem(r["db_id"], r["gold_sql"], r["pred"], id=r["instance_id"],
                      gold_meta={k: r[k] for k in ("instance_id", "condition_cols",
                                                   "ignore_order")}) for r in records]
    report = evaluate_convention(items, "spider2",
                                 ConventionOptions(db_root=dbs, gold_dir=base / "gold"))
    return [_compare("spider2", "spider2/pairs.jsonl", "table match", records,
                     lambda r: bool(r["spider2"]), [i.exec_match for i in report.items],
                     started)]


def all_agreements(sample: int | None = None, only: str | None = None, *,
                   with_reference: bool = True,
                   databases: tuple[Path, Path] | None = None) -> list[Agreement]:
    from sqlsynth.eval.conventions.runner import load_tables_json

    tables_path = SHARED_SPIDER / "tables.json"
    tables = load_tables_json(tables_path) if tables_path.is_file() else None
    out = []
    if only in (None, "spider") and with_reference:
        out += hardness_reference() + (em_reference(tables) if tables else [])
    with tempfile.TemporaryDirectory() as tmp:
        dbs, suite = databases or build_databases(DATA / "databases", Path(tmp))
        out += pair_sets(dbs, suite, load_tables_json(DATA / "dev_tables.json"), sample, only)
        if only in (None, "spider2"):
            out += spider2_set(dbs, sample)
    return [a for a in out if a.total]


def render(rows: Iterable[Agreement], verbose: bool) -> str:
    lines = ["| convention | data set | metric | agreement | % | seconds |",
             "|---|---|---|---|---|---|"]
    details = []
    for a in rows:
        lines.append(f"| {a.convention} | {a.data_set} | {a.metric} | {a.agree:,}/{a.total:,} "
                     f"| {a.rate} | {a.seconds:.1f} |")
        if verbose and a.misses:
            details.append(f"\n{a.convention} / {a.data_set} / {a.metric}:")
            details.extend(f"  {m}" for m in a.misses[:20])
    return "\n".join(lines + details)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=None,
                        help="check about N pairs per file instead of all")
    parser.add_argument("--verbose", action="store_true", help="list disagreements")
    parser.add_argument("--only", choices=["spider", "test-suite", "bird", "spider2"],
                        help="measure one convention")
    args = parser.parse_args(argv)
    if not SHARED_SPIDER.is_dir():
        print(f"note: {SHARED_SPIDER} is absent: em_reference/hardness rows skipped")
    rows = all_agreements(args.sample, args.only)
    print(render(rows, args.verbose))
    return 0 if all(a.agree == a.total for a in rows) else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
