"""Rewards per second and latency of ``sqlsynth.reward`` at 1 and 8 concurrent callers.

Each caller is its own process (as an RL trainer's reward workers are), with its own lazily
built manager over the bundled SQLite databases. The workload mixes, per database, correct
completions (the gold wrapped so that every text differs: no result-cache hits), wrong ones,
malformed ones (no SQL, broken SQL) and hostile ones (the SQLite attacks of the hostile corpus,
runtime attacks under the reward's deadline). Prints calls, rewards/s, p50/p99 latency and the
mean score per kind. Prints figures; asserts nothing.

    PYTHONPATH=. python bench/reward.py [--calls 400] [--callers 1,8] [--timeout 1.0]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DBS = ROOT / "sqlsynth" / "examples" / "databases"
GOLDS = {
    "retail_orders": "SELECT count(*) FROM customers",
    "hospital_admissions": "SELECT ward_name FROM wards ORDER BY bed_count DESC",
    "regional_economy": "SELECT count(*) FROM regions",
}


def workload(n: int) -> list[tuple[str, str, str, str]]:
    """(kind, db_id, gold, completion), ``n`` of them, kinds interleaved."""
    from sqlsynth.testing.hostile import attacks_for

    hostile = [a.sql_for("/nonexistent/evil.out") for a in attacks_for("sqlite")]
    items = []
    dbs = list(GOLDS)
    for i in range(n):
        db_id = dbs[i % len(dbs)]
        gold = GOLDS[db_id]
        kind = ("correct", "wrong", "malformed", "hostile")[i % 4]
        if kind == "correct":
            sql = f"SELECT * FROM ({gold}) AS t WHERE {i} = {i}" if "ORDER" not in gold else gold
        elif kind == "wrong":
            sql = f"SELECT {i}"
        elif kind == "malformed":
            sql = None if i % 8 == 2 else f"SELEC {i} FRM"
        else:
            sql = hostile[(i // 4) % len(hostile)]
        text = "Reasoning." + (f"\n```sql\n{sql}\n```" if sql is not None else " No block.")
        items.append((kind, db_id, gold, text))
    return items


def caller(args: tuple) -> list[tuple[str, float, float]]:
    items, timeout = args
    from sqlsynth.reward.score import scorer_for

    scorer = scorer_for(DBS, timeout=timeout)  # what execution_reward calls, with the reason
    for db_id, gold in GOLDS.items():  # warm: manager, workers, gold cache
        scorer(f"```sql\n{gold}\n```", db_id, gold)
    out = []
    for kind, db_id, gold, text in items:
        start = time.perf_counter()
        result = scorer.score(text, db_id, gold)
        out.append((kind, result.score, time.perf_counter() - start, result.reason))
    return out


def run(callers: int, calls: int, timeout: float) -> None:
    items = workload(calls)
    shares = [(items[i::callers], timeout) for i in range(callers)]
    # not multiprocessing.Pool: its daemonic processes may not start the sandbox's workers
    with ProcessPoolExecutor(callers, mp_context=mp.get_context("spawn")) as pool:
        list(pool.map(caller, [([], timeout)] * callers))  # start processes and workers
        start = time.perf_counter()
        results = [r for part in pool.map(caller, shares) for r in part]
        wall = time.perf_counter() - start
    latencies = sorted(r[2] for r in results)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    by_kind: dict[str, list[float]] = {}
    reasons: dict[str, int] = {}
    for kind, score, _, reason in results:
        by_kind.setdefault(kind, []).append(score)
        reasons[reason] = reasons.get(reason, 0) + 1
    means = ", ".join(f"{k} {statistics.mean(v):.2f}" for k, v in sorted(by_kind.items()))
    print(f"{callers} caller(s): {len(results)} rewards in {wall:.2f} s = "
          f"{len(results) / wall:.0f} rewards/s; latency p50 "
          f"{1000 * statistics.median(latencies):.1f} ms, p99 {1000 * p99:.1f} ms; "
          f"mean score: {means}; reasons: {dict(sorted(reasons.items()))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--callers", default="1,8")
    parser.add_argument("--timeout", type=float, default=1.0)
    args = parser.parse_args()
    for n in (int(c) for c in args.callers.split(",")):
        run(n, args.calls, args.timeout)


if __name__ == "__main__":
    main()
