"""Discovery and introspection, identical expectations on SQLite, MariaDB and PostgreSQL."""

from __future__ import annotations

import re

from tests.db import dataset


def test_discovery_lists_user_databases(manager):
    assert manager.list_databases() == sorted([dataset.DB_ID, dataset.OTHER_DB_ID])
    assert manager.database_exists(dataset.DB_ID)
    assert not manager.database_exists("information_schema")


def test_select_databases_restricts(manager):
    manager.select_databases([dataset.DB_ID])
    assert manager.list_databases() == [dataset.DB_ID]
    assert manager.execute(dataset.OTHER_DB_ID, "SELECT 1").status.value == "unknown_db"


def test_tables_keys_and_comments(manager):
    schema = manager.get_schema(dataset.DB_ID)
    assert sorted(t.name for t in schema.tables) == sorted(dataset.TABLES)
    concert = schema.table("concert")
    assert [c.name for c in concert.columns] == [c[0] for c in dataset.TABLES["concert"]]
    assert concert.primary_key == ["concert_id"]
    fks = {(tuple(fk.columns), fk.ref_table, tuple(fk.ref_columns)) for fk in concert.foreign_keys}
    assert fks == {
        (("singer_id",), "singer", ("singer_id",)),
        (("stadium_id",), "stadium", ("stadium_id",)),
    }
    assert concert.column("fee").comment == "fee in euros"
    assert concert.column("year").comment is None
    assert schema.table("stadium").column("name").comment == "official name"
    assert "INT" in concert.column("year").type


def test_samples_are_distinct_non_null_values(manager):
    singer = manager.get_schema(dataset.DB_ID).table("singer")
    country = singer.column("country")
    assert country.samples == ["Netherlands", "United States", "France"]
    assert singer.column("singer_id").samples == [1, 2, 3]


def test_renderers(manager):
    compact = manager.render_schema_with_examples(dataset.DB_ID)
    assert "table concert" in compact
    int_type = r"(INTEGER|INT\(11\))"  # MariaDB reports the display width
    assert re.search(
        rf"singer_id {int_type} FK -> singer\.singer_id -- who sang; e\.g\. 1, 2, 3", compact
    )
    assert re.search(rf"concert_id {int_type} PK", compact)
    creates = manager.render_create_statements(dataset.DB_ID)
    assert creates.count("CREATE TABLE") == 3
    assert "fee in euros" in creates
    inserts = manager.render_sample_inserts(dataset.DB_ID, rows_per_table=2)
    assert inserts.count("INSERT INTO") == 6
    assert "'Raith Rovers'" in inserts


def test_sample_rows(manager):
    res = manager.sample_rows(dataset.DB_ID, "singer", 2)
    assert res.ok and len(res.rows) == 2 and res.columns[0] == "singer_id"
    assert manager.sample_rows(dataset.DB_ID, "nope").status.value == "runtime_error"
