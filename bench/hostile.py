"""The attack corpus against all three engines: what was refused, stopped, allowed, changed.

Starts throwaway MariaDB and PostgreSQL servers (tests/servers.py) with the test database,
switches on the server settings that change how SQL is read (NO_BACKSLASH_ESCAPES /
ANSI_QUOTES, standard_conforming_strings = off), and runs every attack of
sqlsynth/testing/hostile_corpus/*.jsonl through DatabaseManager.execute and explain, with the
read-only account and, with --privileged, the opt-out privileged one. After every attack the
data, files, server settings and the worker connection's session state are compared (see
tests/db/hostile_checks.py). Prints per engine: attacks tried, refused, stopped by a limit,
allowed, changes detected (must be 0), exceptions, the worst time over the limit, the peak
RSS growth of this (the main) process, and the per-query overhead of a trivial query; then per
attack class (a corpus line's "class", else its file): blocked, state changes, hangs, the
worst time and the peak RSS of the largest worker process and growth of the main one.
Prints figures; asserts nothing.

    PYTHONPATH=. python bench/hostile.py --limit 2 [--privileged] [--engines sqlite,mysql]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlsynth.db import DatabaseManager
from sqlsynth.testing.hostile import attacks_for
from tests import servers
from tests.db import dataset
from tests.db.hostile_checks import Target, run_attack


def _rss() -> int:
    import os

    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _children_rss() -> int:
    """The largest resident set among this process's descendants (the worker processes)."""
    import os

    page = os.sysconf("SC_PAGE_SIZE")
    todo, largest = [os.getpid()], 0
    while todo:
        pid = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as fh:
                    kids = [int(k) for k in fh.read().split()]
            except OSError:
                continue
            for kid in kids:
                todo.append(kid)
                try:
                    with open(f"/proc/{kid}/statm") as fh:
                        largest = max(largest, int(fh.read().split()[1]) * page)
                except OSError:
                    pass
    return largest


class PeakRSS:
    """Peak RSS of this (the main) process, and of the largest worker since ``reset_worker``."""

    def __init__(self) -> None:
        self.base = self.peak = _rss()
        self.worker_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def reset_worker(self) -> int:
        peak, self.worker_peak = self.worker_peak, _children_rss()
        return peak

    def _loop(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss())
            self.worker_peak = max(self.worker_peak, _children_rss())

    def stop(self) -> tuple[float, float]:
        self._stop.set()
        self._thread.join()
        return self.peak / 2**20, (self.peak - self.base) / 2**20


def trivial_overhead(manager: DatabaseManager, n: int = 300) -> tuple[float, float]:
    """Median ms of a trivial distinct query through the manager, and run in-process."""
    from sqlsynth.db.engines.base import RunLimits
    from sqlsynth.db.pool import PooledConnection

    times = []
    for i in range(n):
        start = time.perf_counter()
        res = manager.execute(dataset.DB_ID, f"SELECT {i} + 1")
        times.append(time.perf_counter() - start)
        assert res.ok, res
    conn = manager.engine.connect(dataset.DB_ID)
    direct = []
    try:
        for i in range(n):
            start = time.perf_counter()
            manager.engine.run(PooledConnection(conn), f"SELECT {i} + 1",
                               RunLimits(5.0, 100, 10**6))
            direct.append(time.perf_counter() - start)
    finally:
        manager.engine.close_connection(conn)
    return statistics.median(times) * 1000, statistics.median(direct) * 1000


def run_engine(kind: str, limit: float, privileged: bool, server, work: Path) -> dict:
    kw = {"timeout": limit, "per_db_concurrency": 1, "max_workers": 1}
    if kind == "sqlite":
        root = work / "sqlite"
        dataset.build_sqlite(root)
        manager = DatabaseManager("sqlite", {"root_path": str(root)}, **kw)
        evil = work / "evil"
        evil.mkdir(exist_ok=True)
        target = Target(kind, manager, sqlite_path=manager.engine.path_of(dataset.DB_ID),
                        evil_dir=evil, watched_dirs=[evil, root])
    else:
        manager = DatabaseManager(kind, server.config(privileged=privileged),
                                  allow_privileged_account=privileged, **kw)
        evil = server.files_dir if kind == "mysql" else server.workdir / "evil"
        evil.mkdir(exist_ok=True)
        if kind == "postgres":
            shutil.chown(evil, "postgres", "postgres")
        target = Target(kind, manager, server=server, evil_dir=evil,
                        watched_dirs=[evil, server.data_dir()])
    counts = {"tried": 0, "refused": 0, "limited": 0, "allowed": 0, "changes": 0,
              "exceptions": 0, "worst_over": 0.0}
    findings: list[str] = []
    classes: dict[str, dict] = {}
    try:
        assert manager.execute(dataset.DB_ID, "SELECT 1").ok
        rss = PeakRSS()
        baseline, session = target.snapshot(), target.session_state()
        for attack in attacks_for(kind):
            rss.reset_worker()
            main_before = _rss()
            out = run_attack(target, attack, limit, baseline, session)
            c = classes.setdefault(attack.kind, {"tried": 0, "blocked": 0, "changes": 0,
                                                 "hangs": 0, "worst_s": 0.0, "worker_mb": 0.0,
                                                 "main_mb": 0.0})
            c["tried"] += 1
            c["blocked"] += out.category in ("refused", "limited")
            c["changes"] += any(p.startswith(("changed", "session state"))
                                for p in out.problems)
            worst = max(out.elapsed, out.explain_elapsed)
            c["hangs"] += worst > limit + 1.0
            c["worst_s"] = max(c["worst_s"], worst)
            c["worker_mb"] = max(c["worker_mb"], rss.reset_worker() / 2**20)
            c["main_mb"] = max(c["main_mb"], (rss.peak - main_before) / 2**20)
            counts["tried"] += 1
            counts[out.category if out.category != "exception" else "exceptions"] += 1
            changed = [p for p in out.problems if p.startswith(("changed", "session state"))]
            raised = [p for p in out.problems if "raised" in p]
            counts["changes"] += bool(changed)
            counts["exceptions"] += bool(raised) and out.category != "exception"
            counts["worst_over"] = max(counts["worst_over"], out.elapsed - limit,
                                       out.explain_elapsed - limit)
            if changed or raised:
                findings.append(f"{attack.name}: {'; '.join(changed + raised)}")
                baseline, session = out.after, out.state
        counts["peak_rss_mb"], counts["rss_growth_mb"] = rss.stop()
        manager.clear_cache()
        counts["trivial_ms"], counts["direct_ms"] = trivial_overhead(manager)
    finally:
        manager.close()
    counts["findings"] = findings
    counts["classes"] = classes
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engines", default="sqlite,mysql,postgres")
    parser.add_argument("--limit", type=float, default=2.0)
    parser.add_argument("--privileged", action="store_true",
                        help="also run with the privileged account (the explicit opt-out)")
    parser.add_argument("--no-traps", action="store_true",
                        help="leave the servers' lexical settings at their defaults")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sqlsynth-hostile-bench-"))
    rows = []
    started = []
    try:
        for kind in args.engines.split(","):
            server = None
            if kind != "sqlite":
                server = servers.start_mariadb() if kind == "mysql" else servers.start_postgres()
                started.append(server)
                (dataset.load_mysql if kind == "mysql" else dataset.load_postgres)(server)
                server.set_lexical_traps(not args.no_traps)
            accounts = [False, True] if (args.privileged and server is not None) else [False]
            for privileged in accounts:
                label = f"{kind} ({'privileged' if privileged else 'read-only'})"
                print(f"running {label} ...", file=sys.stderr, flush=True)
                rows.append((label, run_engine(kind, args.limit, privileged, server, work)))
    finally:
        for server in started:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    head = ("engine", "tried", "refused", "limited", "allowed", "changes", "exceptions",
            "worst over limit", "main peak RSS", "RSS growth", "trivial query", "in-process")
    print(f"\nlimit {args.limit:g}s; lexical traps {'off' if args.no_traps else 'on'}")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for label, c in rows:
        print(f"| {label} | {c['tried']} | {c['refused']} | {c['limited']} | {c['allowed']} | "
              f"{c['changes']} | {c['exceptions']} | {max(c['worst_over'], 0):+.2f}s | "
              f"{c['peak_rss_mb']:.0f} MB | {c['rss_growth_mb']:+.0f} MB | "
              f"{c['trivial_ms']:.2f} ms | {c['direct_ms']:.2f} ms |")
    head = ("engine", "class", "tried", "blocked", "state changes", "hangs (> limit + 1 s)",
            "worst time", "worker peak RSS", "main growth")
    print("\n| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for label, c in rows:
        for name, k in sorted(c["classes"].items()):
            print(f"| {label} | {name} | {k['tried']} | {k['blocked']} | {k['changes']} | "
                  f"{k['hangs']} | {k['worst_s']:.2f} s | {k['worker_mb']:.0f} MB | "
                  f"{k['main_mb']:+.0f} MB |")
    for label, c in rows:
        for finding in c["findings"]:
            print(f"  {label}: {finding}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
