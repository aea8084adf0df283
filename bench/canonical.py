"""Canonical questions and reasoning: how much SQL is worded, how faithfully, how fast.

Over three corpora: the Spider dev gold SQL (schemas from ``tables.json``; pass ``--spider``,
skipped when absent), the SQL rows of the bundled examples, and ``SQLSampler``'s SQL over the
bundled databases (``--sampled`` per database). Printed per corpus: queries, the share
realized, the share of realized questions that name every table, column and value of their
SQL (``sqlsynth.realize.mentions``), the share that pass the deterministic question checks
(``Text2SQLQuestionFilter``'s rules), the reasons for refusals, and the time per query of the
question (parse included) and of the reasoning. Prints figures; asserts nothing.

    python bench/canonical.py [--spider /path/to/spider] [--sampled 60]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import time
from pathlib import Path

from sqlsynth.db import DatabaseManager
from sqlsynth.db.schema import Schema
from sqlsynth.db.tables_json import load_tables_json
from sqlsynth.operators.filter.question_checks import question_problem
from sqlsynth.realize import NotRealizable, canonical_question, canonical_reasoning
from sqlsynth.realize.mentions import missing_mentions

EXAMPLES = Path(__file__).resolve().parents[1] / "sqlsynth" / "examples"


def measure(name: str, pairs: list[tuple[str, Schema]]) -> None:
    realized, named, checked = 0, 0, 0
    refused: collections.Counter[str] = collections.Counter()
    start = time.perf_counter()
    results = []
    for sql, schema in pairs:
        try:
            results.append((sql, schema, canonical_question(sql, schema)))
        except NotRealizable as err:
            refused[err.reason.split(" '")[0][:60]] += 1
    question_s = time.perf_counter() - start
    start = time.perf_counter()
    for sql, schema in pairs:
        try:
            canonical_reasoning(sql, schema)
        except NotRealizable:
            pass
    reasoning_s = time.perf_counter() - start
    for sql, schema, result in results:
        realized += 1
        named += not missing_mentions(sql, schema, result.question, result.evidence)
        checked += question_problem(result.question, result.evidence, sql) is None
    total = max(len(pairs), 1)
    print(f"{name}: {len(pairs)} queries, realized {realized} ({realized / total:.1%}); of those "
          f"naming everything {named / max(realized, 1):.1%}, passing the question checks "
          f"{checked / max(realized, 1):.1%}; {question_s / total * 1e3:.2f} ms per question, "
          f"{reasoning_s / total * 1e3:.2f} ms per reasoning")
    for reason, count in refused.most_common():
        print(f"    refused {count:4d}: {reason}")


def spider_pairs(folder: Path) -> list[tuple[str, Schema]]:
    schemas = load_tables_json(folder / "tables.json")
    lines = (folder / "dev_gold.sql").read_text(encoding="utf-8").splitlines()
    return [(sql, schemas[db]) for sql, db in (line.split("\t") for line in lines if line.strip())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spider", type=Path, default=Path("/work/shared/data/spider"))
    parser.add_argument("--sampled", type=int, default=60, help="sampled SQL per database")
    args = parser.parse_args()
    if (args.spider / "dev_gold.sql").exists():
        measure("Spider dev gold", spider_pairs(args.spider))
    else:
        print(f"Spider dev gold: skipped, no dev_gold.sql under {args.spider}")
    manager = DatabaseManager.from_path_or_url(str(EXAMPLES / "databases"))
    try:
        rows = []
        for name in ("questions.jsonl", "refine_input.jsonl"):
            rows += [json.loads(line) for line in (EXAMPLES / name).read_text().splitlines()
                     if line.strip()]
        measure("bundled examples", [(r["SQL"], manager.get_schema(r["db_id"])) for r in rows])
        if args.sampled:
            from sqlsynth.sampling import sample_queries

            pairs = []
            for db_id in manager.list_databases():
                queries = asyncio.run(sample_queries(manager, db_id, num=args.sampled))
                pairs += [(q.sql, manager.get_schema(db_id)) for q in queries]
            measure("SQLSampler over the bundled databases", pairs)
    finally:
        manager.close()


if __name__ == "__main__":
    main()
