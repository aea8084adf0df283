"""``SQLSampler`` as a pipeline step: seed rows, level per slot, output columns, rejects."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import pytest

from sqlsynth import SQLSampler as TopLevel
from sqlsynth.operators.base import Reject
from sqlsynth.operators.generate import SQLSampler
from sqlsynth.sampling import FEATURES
from sqlsynth.storage import FileStorage


def test_exported_from_the_package_and_the_top_level():
    assert TopLevel is SQLSampler


def test_plan_sources_and_levels_follow_the_mix(dbm, ctx):
    op = SQLSampler(dbm, generate_num=8, hardness_mix={"easy": 1, "hard": 1})
    rows = op.plan_sources(ctx)
    assert [(r["db_id"], r["slot"]) for r in rows[:2]] == [("shop", 0), ("shop", 1)]
    assert Counter(r["level"] for r in rows) == {"easy": 8, "hard": 8}


def test_rows_have_the_contract_columns_and_rejects_have_reasons(dbm, ctx):
    op = SQLSampler(dbm, generate_num=4, seed=1)
    out = [asyncio.run(op.aprocess_row(row, ctx)) for row in op.plan_sources(ctx)]
    rows = [r for o in out if not isinstance(o, Reject) for r in o]
    assert rows, out
    for row in rows:
        assert set(row) == {"SQL", "db_id", "sql_complexity_type", "sql_source", "sql_features",
                            "canonical"}
        assert row["sql_source"] == "grammar"
        assert set(row["sql_features"]) <= set(FEATURES) | {"or"}
        assert dbm.execute(row["db_id"], row["SQL"]).ok
    assert all(o.reason == "no_sampled_sql" for o in out if isinstance(o, Reject))
    unknown = asyncio.run(op.aprocess_row({"db_id": "nope", "slot": 0}, ctx))
    assert isinstance(unknown, Reject) and unknown.reason == "unknown_db_id"
    assert sum(op.report()["hardness"].values()) == len(rows)


def test_run_through_storage_is_deterministic(dbm, tmp_path):
    def run(folder: str) -> list[dict]:
        storage = FileStorage(first_entry_file_name="", cache_path=str(tmp_path / folder))
        SQLSampler(dbm, generate_num=6, seed=9).run(storage=storage.step())
        lines = storage.step_path(1).read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    first, second = run("a"), run("b")
    assert first and [r["SQL"] for r in first] == [r["SQL"] for r in second]


def test_constructor_validates(dbm):
    with pytest.raises(ValueError):
        SQLSampler(dbm, generate_num=-1)
    with pytest.raises(ValueError, match="hardness_mix"):
        SQLSampler(dbm, generate_num=1, hardness_mix={"trivial": 1})


def test_counters_stay_out_of_the_resume_fingerprint(dbm, ctx):
    from sqlsynth.storage.fingerprint import describe_operator

    op = SQLSampler(dbm, generate_num=2, seed=1)
    before = describe_operator(op)
    for row in op.plan_sources(ctx):
        asyncio.run(op.aprocess_row(row, ctx))
    assert sum(op.report()["hardness"].values()) > 0
    assert describe_operator(op) == before
