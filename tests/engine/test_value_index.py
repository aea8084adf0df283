"""The value index answers probes exactly as live probing does, and rebuilds when stale."""

from __future__ import annotations

import os
import sqlite3

import pytest

from sqlsynth.engine.probes import Probe, probe_sql
from sqlsynth.engine.value_index import ValueIndex, fts5_trigram_available, similarity
from tests.engine.conftest import sha256

NEEDLES = ["CA", "ca", "a", "San", "new york", "NEW", "ñ", "Cataluña", "CATALUÑA", "%", "_",
           "e_", "'", "O'", "!", "  ", "Stride & Co", "2023Q1", "023q", "GmbH", "gmbh", "zzzz"]


def live_values(dbm, db_id: str, probe: Probe) -> list:
    res = dbm.execute(db_id, probe_sql(probe, dbm.dialect), max_rows=1_000_000)
    assert res.ok, res.error
    return sorted(row[0] for row in res.rows)


@pytest.mark.parametrize("db_id", ["retail_orders", "regional_economy", "hospital_admissions"])
async def test_index_matches_live_exact_and_like_probes(dbm, tmp_path, db_id):
    index = await ValueIndex.aopen_or_build(dbm, db_id, tmp_path / "idx")
    covered = [c for c in index.columns() if c.indexed]
    assert covered, "no text column was indexed"
    checked = 0
    for col in covered:
        samples = dbm.execute(db_id, f'SELECT DISTINCT "{col.column}" FROM "{col.table}" '
                                     "LIMIT 3").rows
        needles = NEEDLES + [r[0] for r in samples if isinstance(r[0], str)]
        needles += [r[0][1:4] for r in samples if isinstance(r[0], str)]
        for needle in needles:
            for skeleton in ("exact", "like"):
                probe = Probe("k", col.table, col.column, needle, skeleton)
                assert sorted(index.lookup(probe)) == live_values(dbm, db_id, probe), \
                    (col, needle, skeleton)
                checked += 1
    assert checked > 100
    index.close()


async def test_non_text_and_oversized_columns_are_skipped_with_a_reason(dbm, tmp_path):
    index = await ValueIndex.aopen_or_build(dbm, "retail_orders", tmp_path / "idx",
                                            max_distinct=100)
    info = {(c.table, c.column): c for c in index.columns()}
    assert not info[("orders", "order_id")].indexed
    assert "not text" in info[("orders", "order_id")].reason
    assert not info[("customers", "email")].indexed
    assert "more than 100 distinct" in info[("customers", "email")].reason
    assert info[("customers", "state")].indexed
    assert index.lookup(Probe("k", "customers", "email", "x", "like")) is None
    index.close()


async def test_index_is_reused_then_rebuilt_when_the_database_changes(dbm, db_root, tmp_path):
    db_file = db_root / "retail_orders" / "retail_orders.sqlite"
    before = sha256(db_file)
    first = await ValueIndex.aopen_or_build(dbm, "retail_orders", tmp_path / "idx")
    stamp = first.path.stat().st_mtime_ns
    first.close()
    again = await ValueIndex.aopen_or_build(dbm, "retail_orders", tmp_path / "idx")
    assert again.path.stat().st_mtime_ns == stamp  # reused, not rebuilt
    assert again.exact("customers", "state", "ZQ") == []
    again.close()
    assert sha256(db_file) == before  # building read the database only
    assert not any(p.name.endswith(".values.sqlite") for p in db_file.parent.iterdir())

    with sqlite3.connect(db_file) as conn:  # the user edits their database
        conn.execute("UPDATE customers SET state = 'ZQ' WHERE customer_id = "
                     "(SELECT MIN(customer_id) FROM customers)")
    os.utime(db_file, ns=(stamp + 10**9, stamp + 10**9))
    dbm.clear_cache()
    rebuilt = await ValueIndex.aopen_or_build(dbm, "retail_orders", tmp_path / "idx")
    assert rebuilt.exact("customers", "state", "ZQ") == ["ZQ"]
    rebuilt.close()


async def test_refuses_to_write_over_the_database_file(dbm, db_root):
    db_file = db_root / "retail_orders" / "retail_orders.sqlite"
    before = sha256(db_file)
    with pytest.raises(ValueError, match="refusing"):
        await ValueIndex.abuild(dbm, "retail_orders", db_file)
    assert sha256(db_file) == before


async def test_fuzzy_lookup_ranks_near_spellings_first(dbm, tmp_path):
    index = await ValueIndex.aopen_or_build(dbm, "retail_orders", tmp_path / "idx")
    top = index.fuzzy("North Peak", table="products", column="brand", k=3)
    assert top[0].value == "NorthPeak" and top[0].score > 0.7
    anywhere = index.fuzzy("new york", k=5)
    assert ("customers", "city", "NEW YORK") in {(m.table, m.column, m.value) for m in anywhere}
    assert index.fuzzy("", k=3) == []
    index.close()


def test_similarity_is_symmetric_in_case_and_spacing():
    assert similarity("New  York", "NEW YORK") == 1.0
    assert similarity("NorthPeak", "North Peak") > similarity("NorthPeak", "Kestrel")


def test_fts5_trigram_is_detected():
    assert isinstance(fts5_trigram_available(), bool)


async def test_plain_table_fallback_without_fts5_gives_the_same_answers(dbm, tmp_path,
                                                                        monkeypatch):
    import sqlsynth.engine.value_index as vi

    monkeypatch.setattr(vi, "fts5_trigram_available", lambda: False)
    index = await ValueIndex.aopen_or_build(dbm, "retail_orders", tmp_path / "plain")
    assert not index.fts
    for needle in ("san", "NEW", "Stride & Co", "%", "zzzz"):
        probe = Probe("k", "customers", "city", needle, "like")
        assert sorted(index.lookup(probe)) == live_values(dbm, "retail_orders", probe)
    assert index.fuzzy("North Peak", table="products", column="brand")[0].value == "NorthPeak"
    index.close()
