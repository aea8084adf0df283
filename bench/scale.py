"""Throughput when query execution dominates: the local executor against Ray with 1, 2, ... workers.

The workload is ``SQLExecutionClassifier`` alone, with many generations per row over several
large SQLite databases: every candidate the scripted model writes is a distinct full scan, so
the run's time is the databases', not the model's. The same rows run with the local executor
and with the Ray executor (a private local cluster, one CPU per worker); the bench prints
rows per second, the ratio to the local executor, and checks that every run wrote the same
bytes. Prints figures; asserts nothing.

    python bench/scale.py --workers 1 2 --databases 4 --rows 8 --generations 16
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("SQLSYNTH_PROGRESS", "0")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlsynth.config import RunConfig
from sqlsynth.executors.local import LocalExecutor
from sqlsynth.executors.ray import RayExecutor
from sqlsynth.pipelines.pipeline import Step
from sqlsynth.pipelines.text2sql import _Text2SQLPipelineBase

_SERVER = """
import re, sys
from sqlsynth.testing import ScriptedOpenAIServer

def heavy(body):
    text = body["messages"][-1]["content"]
    key = int(re.search(r"HEAVY:(\\d+)", text).group(1))
    n = int(body.get("n") or 1)
    return [f"```sql\\nSELECT COUNT(*), SUM(v) FROM big WHERE v % 101 = {(key * 37 + i) % 101}"
            f" AND k >= {i}\\n```" for i in range(n)]

server = ScriptedOpenAIServer(heavy).start()
print(server.base_url, flush=True)
sys.stdin.read()
"""


class ExecutionGrading(_Text2SQLPipelineBase):
    """One step: grade each row's SQL by how many of ``execution_generations`` answers match."""

    first_entry_default = "refine_input.jsonl"

    def steps(self) -> list[Step]:
        return [Step(self.execution_classifier, {"input_sql_key": "SQL",
                                                 "input_db_id_key": "db_id",
                                                 "input_prompt_key": "prompt"})]


def build_databases(root: Path, count: int, rows: int) -> list[str]:
    names = []
    for d in range(count):
        name = f"big{d}"
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(folder / f"{name}.sqlite")
        con.execute("CREATE TABLE big (k INTEGER PRIMARY KEY, v INTEGER, t TEXT)")
        con.executemany("INSERT INTO big VALUES (?, ?, ?)",
                        ((i, (i * 7919 + d) % 100003, f"r{i}") for i in range(rows)))
        con.commit()
        con.close()
        names.append(name)
    return names


def write_input(path: Path, db_ids: list[str], per_db: int) -> None:
    import json

    with path.open("w") as handle:
        for db_id in db_ids:
            for r in range(per_db):
                key = int(hashlib.sha256(f"{db_id}/{r}".encode()).hexdigest()[:6], 16)
                row = {"db_id": db_id, "SQL": f"SELECT COUNT(*), SUM(v) FROM big WHERE v % 101 = "
                       f"{key % 101} AND k >= 0", "prompt": f"grade HEAVY:{key}"}
                handle.write(json.dumps(row) + "\n")


def run(label: str, cfg: RunConfig, executor: Any) -> dict[str, Any]:
    pipeline = ExecutionGrading(config=cfg)
    if hasattr(executor, "connect"):
        executor.connect()  # the cluster's start-up is not the run's throughput
    start = time.perf_counter()
    pipeline.forward(executor)
    wall = time.perf_counter() - start
    step = Path(cfg.out) / f"{cfg.file_name_prefix}_step1.jsonl"
    text = step.read_bytes()
    return {"executor": label, "rows": text.count(b"\n"), "wall_s": round(wall, 2),
            "rows_per_s": round(text.count(b"\n") / wall, 2),
            "digest": hashlib.sha256(text).hexdigest()[:12]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--databases", type=int, default=4)
    parser.add_argument("--table-rows", type=int, default=300_000)
    parser.add_argument("--rows", type=int, default=8, help="input rows per database")
    parser.add_argument("--generations", type=int, default=16)
    parser.add_argument("--ray-address", default="", help="an existing cluster (default: local)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        db_ids = build_databases(root / "dbs", args.databases, args.table_rows)
        write_input(root / "input.jsonl", db_ids, args.rows)
        server = subprocess.Popen([sys.executable, "-c", _SERVER], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        try:
            base_url = server.stdout.readline().strip()

            def config(name: str, **kw: Any) -> RunConfig:
                return RunConfig(db=str(root / "dbs"), out=str(root / name), base_url=base_url,
                                 model="scripted", embedding_model="scripted-emb",
                                 input=str(root / "input.jsonl"), llm_cache=False,
                                 execution_generations=args.generations, concurrency=64,
                                 query_timeout=120, **kw)

            results = [run("local", config("local"), LocalExecutor())]
            for workers in args.workers:
                executor = RayExecutor(args.ray_address or None, workers=workers)
                results.append(run(f"ray x{workers}", config(f"ray{workers}"), executor))
                import ray

                ray.shutdown()
        finally:
            server.stdin.close()
            server.wait(timeout=30)

    queries = args.databases * args.rows * (args.generations + 1)
    print(f"{args.databases} databases x {args.table_rows} rows, {args.rows} rows each, "
          f"{args.generations} generations: {queries} full scans; {os.cpu_count()} CPUs")
    local = results[0]["wall_s"]
    print(f"{'executor':>10} | {'rows':>5} | {'wall_s':>8} | {'rows/s':>7} | "
          f"{'vs local':>8} | output")
    for r in results:
        same = "same bytes" if r["digest"] == results[0]["digest"] else "DIFFERENT"
        print(f"{r['executor']:>10} | {r['rows']:>5} | {r['wall_s']:>8} | {r['rows_per_s']:>7} | "
              f"{local / r['wall_s']:>7.2f}x | {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
