"""How long the statement guard takes, on everyday queries and on hostile sizes.

For each input and dialect: the verdict and the median / worst wall time of
``check_read_only`` over ``--repeat`` runs. The hostile sizes (1.2 MB, 5,000-deep
parentheses, 300 nested subqueries, 20,000 tokens) must be refused by the cheap limits, in
milliseconds; the largest inputs the limits let through show the cost of parsing twice and
rendering once. Prints figures; asserts nothing.

    python bench/guard_speed.py --repeat 5
"""

from __future__ import annotations

import argparse
import statistics
import time

import sqlglot  # noqa: F401 - imported before any clock starts

from sqlsynth.db.guard import check_read_only
from sqlsynth.sql.parse import MAX_NESTING_DEPTH, MAX_SQL_TOKENS

TYPICAL = (
    "SELECT T1.name, count(*) FROM singer AS T1 JOIN concert AS T2 ON T1.singer_id = "
    "T2.singer_id WHERE T2.year > 2014 GROUP BY T1.name HAVING count(*) > 1 ORDER BY 2 DESC"
)
CTE_WINDOW = (
    "WITH t AS (SELECT customer_id, sum(amount) AS s FROM orders GROUP BY customer_id) "
    "SELECT customer_id, s, rank() OVER (ORDER BY s DESC) FROM t WHERE s > (SELECT avg(s) "
    "FROM t) ORDER BY 3 LIMIT 10"
)
INPUTS = {
    "typical join (200 B)": TYPICAL,
    "CTE + window (250 B)": CTE_WINDOW,
    "1.2 MB statement": "SELECT 1" + ", 1" * 400_000,
    "5,000-deep parentheses": "SELECT " + "(" * 5000 + "1" + ")" * 5000,
    "300 nested subqueries": "SELECT " + "(SELECT " * 300 + "1" + ")" * 300,
    "20,000 tokens": "SELECT 1 FROM t WHERE a IN (" + ", ".join(["1"] * 10_000) + ")",
    f"deepest allowed ({MAX_NESTING_DEPTH} parens)": (
        "SELECT " + "(" * MAX_NESTING_DEPTH + "1" + ")" * MAX_NESTING_DEPTH
    ),
    f"most tokens allowed (~{MAX_SQL_TOKENS:,})": (
        "SELECT 1 FROM t WHERE a IN (" + ", ".join(["1"] * (MAX_SQL_TOKENS // 2 - 10)) + ")"
    ),
    "--<U+00A0> INTO OUTFILE": "SELECT 1 --\u00a0 INTO OUTFILE '/tmp/x'\nFROM t",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dialects", default="sqlite,mysql,postgres")
    args = parser.parse_args()
    print(f"{'input':34} {'dialect':9} {'verdict':13} {'median ms':>10} {'worst ms':>9}")
    for name, sql in INPUTS.items():
        for dialect in args.dialects.split(","):
            times, verdict = [], ""
            for _ in range(args.repeat):
                start = time.perf_counter()
                decision = check_read_only(sql, dialect)
                times.append((time.perf_counter() - start) * 1000)
                verdict = "allowed" if decision.allowed else decision.status.value
            print(
                f"{name:34} {dialect:9} {verdict:13} {statistics.median(times):10.2f} "
                f"{max(times):9.2f}"
            )


if __name__ == "__main__":
    main()
