"""Where the SQL comes from: ``sql_source`` llm / grammar / mixed on the bundled databases.

Runs the generation pipeline against the scripted OpenAI-compatible server (the same child
process bench/pipeline.py uses) once per source and prints, per source: final rows, the Spider
hardness distribution of the final SQL, SQL-feature coverage (``sqlsynth.viewer.sql_features``),
distinct literal-normalized templates per 100 rows (``sqlsynth.sql.sql_template``), LLM
requests per final row and wall seconds. The scripted server's SQL is the responder's, so the
llm figures show the pipeline's cost, not a real model's variety. Prints; asserts nothing.

    python bench/sql_source.py --num 12
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("SQLSYNTH_PROGRESS", "0")

from pipeline import ServerProcess

from sqlsynth.config import RunConfig
from sqlsynth.pipelines import Text2SQLGeneration_APIPipeline
from sqlsynth.sql import spider_hardness, sql_template
from sqlsynth.storage.final import write_final
from sqlsynth.viewer.sql_features import feature_coverage

SOURCES = ("llm", "grammar", "mixed")


def _hardness(sql: str) -> str:
    try:
        return spider_hardness(sql)
    except Exception:  # noqa: BLE001 - SQL Spider's grammar cannot read
        return "unparsed"


def run_one(source: str, base_url: str, num: int, seed: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as out:
        cfg = RunConfig(out=out, base_url=base_url, model="scripted",
                        embedding_model="scripted-emb", generate_num=num, concurrency=16,
                        llm_cache=False, question_candidates=2, cot_samples=2,
                        execution_generations=3, seed=seed, sql_source=source)
        pipeline = Text2SQLGeneration_APIPipeline(config=cfg)
        start = time.perf_counter()
        pipeline.forward()
        wall = time.perf_counter() - start
        final = write_final(Path(out), cfg.file_name_prefix, cfg.cache_type)
        rows = [json.loads(line) for line in final.read_text().splitlines() if line.strip()]
        requests = pipeline.llm_serving.stats.snapshot()["requests"] + \
            pipeline.embedding_serving.stats.snapshot()["requests"]
    sqls = [str(r["SQL"]) for r in rows]
    templates = {sql_template(sql) for sql in sqls}
    features = feature_coverage(sqls)
    return {
        "source": source,
        "final_rows": len(rows),
        "hardness": dict(Counter(_hardness(s) for s in sqls)),
        "features": len([f for f, n in features.items() if n and f != "unparsed"]),
        "feature_counts": dict(features.most_common()),
        "templates_per_100": round(100 * len(templates) / len(rows), 1) if rows else 0.0,
        "requests_per_row": round(requests / len(rows), 2) if rows else float("nan"),
        "wall_s": round(wall, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num", type=int, default=12, help="SQL per database (default 12)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--only", choices=SOURCES, action="append", help="run only these")
    args = parser.parse_args(argv)
    results = []
    with ServerProcess(0.0, "const", True) as server:
        for source in args.only or SOURCES:
            results.append(run_one(source, server.base_url, args.num, args.seed))
    levels = ("easy", "medium", "hard", "extra")
    print(f"{'source':<8} {'rows':>5} {'easy/med/hard/extra':>20} {'features':>8} "
          f"{'tmpl/100':>8} {'req/row':>8} {'wall s':>7}")
    for r in results:
        mix = "/".join(str(r["hardness"].get(level, 0)) for level in levels)
        print(f"{r['source']:<8} {r['final_rows']:>5} {mix:>20} {r['features']:>8} "
              f"{r['templates_per_100']:>8} {r['requests_per_row']:>8} {r['wall_s']:>7}")
    for r in results:
        print(f"{r['source']} features: {r['feature_counts']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
