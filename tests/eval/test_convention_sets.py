"""Each convention against the verdicts its official script gave on the comparison sets in
``tests/eval/data`` (how they were measured: data/README.md). Fast runs check a fixed sample;
the slow run checks every pair. Agreement must be exact."""

import pytest

from bench.spider_agreement import DATA, all_agreements, build_databases, read_jsonl
from sqlsynth.eval.conventions.runner import load_tables_json


@pytest.fixture(scope="module")
def databases(tmp_path_factory):
    return build_databases(DATA / "databases", tmp_path_factory.mktemp("convention_dbs"))


def _disagreements(sample, databases):
    # the Spider reference files have their own test (test_spider_agreement.py)
    rows = all_agreements(sample, with_reference=False, databases=databases)
    assert rows, "no comparison set found"
    return [(a.convention, a.data_set, a.metric, a.agree, a.total, a.misses[:3])
            for a in rows if a.agree != a.total], rows


def test_sample_of_every_set_agrees_exactly(databases):
    bad, rows = _disagreements(120, databases)
    assert bad == []
    assert {a.convention for a in rows} >= {"spider", "test-suite", "bird", "spider2"}


@pytest.mark.slow
def test_every_pair_agrees_exactly(databases):
    bad, rows = _disagreements(None, databases)
    assert bad == []
    assert sum(a.total for a in rows if a.metric == "EM" and a.convention == "spider") >= 7444


def test_comparison_data_is_complete(databases):
    dbs, suite = databases
    records = read_jsonl(DATA / "spider_dev_pairs.jsonl")
    assert len(records) == 7444
    assert {r["db_id"] for r in records} == {p.name for p in dbs.iterdir()}
    assert all(len(list((suite / p.name).glob("*.sqlite"))) == 3 for p in dbs.iterdir())
    assert set(load_tables_json(DATA / "dev_tables.json")) == {p.name for p in dbs.iterdir()}
