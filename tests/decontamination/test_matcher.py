"""Decontamination on planted overlaps (exact, literal-changed, rephrased question, the SQL on its
own schema) against Spider dev, and no false flags on the bundled databases' own rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sqlsynth.db import DatabaseManager
from sqlsynth.decontamination import (
    DecontaminationOptions,
    Decontaminator,
    decontaminate,
    load_benchmark,
    schema_reader,
)
from sqlsynth.examples import __file__ as examples_init

SPIDER = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "spider"
EXAMPLES = Path(examples_init).parent


@pytest.fixture(scope="module")
def checker() -> Decontaminator:
    if not (SPIDER / "dev.json").is_file():
        pytest.skip(f"Spider dev not found at {SPIDER} (../shared/data/spider)")
    return Decontaminator([load_benchmark(SPIDER)])


PLANTED = [
    # exact: Spider dev's first item
    {"id": "exact", "db_id": "concert_singer", "question": "How many singers do we have?",
     "SQL": "SELECT count(*) FROM singer"},
    # literal changed in question and SQL
    {"id": "literal", "db_id": "concert_singer",
     "question": "What is the average, minimum, and maximum age of all singers from Germany?",
     "SQL": "SELECT avg(age), min(age), max(age) FROM singer WHERE country = 'Germany'"},
    # the question rephrased, the SQL another (so only the question can find it)
    {"id": "rephrased", "db_id": "retail_orders",
     "question": "Which countries became independent after 1970? Give their names.",
     "SQL": "SELECT 1"},
    # the SQL re-laid-out with aliases, on a database named otherwise
    {"id": "sql", "db_id": "my_copy", "question": "Singers, counted.",
     "SQL": "select COUNT(*) from SINGER as s"},
]


def test_planted_overlaps_are_found_with_item_kind_and_score(checker):
    rows, report = decontaminate(PLANTED, checker)
    found = {r["id"]: r["contamination"] for r in rows}
    [exact] = found["exact"]
    assert exact["benchmark"] == "spider" and exact["item_id"] == "dev.json#0"
    assert exact["kind"] == ["question", "sql_exact", "schema"] and exact["score"] == 1.0
    [literal] = found["literal"]
    assert "sql_template" in literal["kind"] and "question" in literal["kind"]
    assert "France" in literal["benchmark_question"]
    [rephrased] = found["rephrased"]
    assert rephrased["kind"] == ["question"] and 0.7 <= rephrased["score"] < 1.0
    assert "1950" in rephrased["benchmark_question"]
    # the SQL alone, on a database whose schema is unknown: not counted by default ...
    assert found["sql"] == []
    assert report["flagged"] == 3 and report["by_kind"]["question"] == 3
    # ... and counted when the schema is the item's
    schema = checker.benchmarks[0].schemas["concert_singer"]
    [on_schema] = checker.matches(PLANTED[3], schema)
    assert on_schema["kind"] == ["sql_exact", "schema"] and on_schema["schema_score"] == 1.0


def test_thresholds_are_the_users(checker):
    strict = Decontaminator(checker.benchmarks, DecontaminationOptions(question_threshold=0.95,
                                                                       sql_needs_schema=False))
    rows, _ = decontaminate(PLANTED[2:], strict)
    assert rows[0]["contamination"] == []  # the rephrasing is below 0.95
    assert rows[1]["contamination"][0]["kind"] == ["sql_exact"]  # any schema now counts


def test_drop_mode_leaves_matched_rows_out(checker):
    rows, report = decontaminate(PLANTED, checker, "drop")
    assert [r["id"] for r in rows] == ["sql"] and report["dropped"] == 3
    with pytest.raises(ValueError, match="unknown mode"):
        decontaminate(PLANTED, checker, "delete")


def test_no_false_flags_on_the_bundled_rows(checker):
    rows = [json.loads(line) for name in ("questions.jsonl", "refine_input.jsonl")
            for line in (EXAMPLES / name).read_text().splitlines() if line.strip()]
    with DatabaseManager.from_path_or_url(str(EXAMPLES / "databases")) as dbm:
        out, report = decontaminate(rows, checker, schema_of=schema_reader(dbm))
    assert report["rows"] == len(rows) == 24
    assert report["flagged"] == 0 and all(r["contamination"] == [] for r in out)
