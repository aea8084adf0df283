"""PostgreSQL-only discovery rule: non-public schemas become `database.schema` db_ids."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sqlsynth.db import DatabaseManager, ExecStatus

pytestmark = pytest.mark.servers


@pytest.fixture(scope="module")
def multi_schema_db(postgres_server) -> Iterator[str]:
    name = "multi"
    postgres_server.create_database(name)
    with postgres_server.connect_as_user(name) as conn:
        for schema, rows in (("sales", 3), ("hr", 2)):
            conn.execute(f"CREATE SCHEMA {schema}")
            conn.execute(f"CREATE TABLE {schema}.item (id INTEGER PRIMARY KEY, label TEXT)")
            conn.execute(f"COMMENT ON COLUMN {schema}.item.label IS '{schema} label'")
            for i in range(rows):
                conn.execute(f"INSERT INTO {schema}.item VALUES ({i}, '{schema}{i}')")
        conn.commit()
    yield name
    postgres_server.admin_execute(f"DROP DATABASE {name} WITH (FORCE)")  # keep discovery exact


def test_schemas_become_db_ids(postgres_server, multi_schema_db):
    manager = DatabaseManager("postgres", postgres_server.config(database=multi_schema_db))
    try:
        assert manager.list_databases() == ["multi.hr", "multi.sales"]
        assert manager.execute("multi.sales", "SELECT count(*) FROM item").rows == ((3,),)
        assert manager.execute("multi.hr", "SELECT count(*) FROM item").rows == ((2,),)
        schema = manager.get_schema("multi.hr")
        assert schema.table("item").column("label").comment == "hr label"
        assert manager.execute("multi", "SELECT 1").status is ExecStatus.UNKNOWN_DB
    finally:
        manager.close()


def test_config_can_name_single_schemas(postgres_server, multi_schema_db):
    # "which databases/schemas": a `database.schema` db_id in the config selects that schema
    # alone, and a plain database name beside it still brings all of that database's schemas.
    only_hr = DatabaseManager("postgres", postgres_server.config(databases=["multi.hr"]))
    mixed = DatabaseManager.from_url(
        f"postgresql://{postgres_server.user}:{postgres_server.password}@"
        f"{postgres_server.host}:{postgres_server.port}/?databases=multi.sales,concert"
    )
    try:
        assert only_hr.list_databases() == ["multi.hr"]
        assert only_hr.execute("multi.hr", "SELECT count(*) FROM item").rows == ((2,),)
        assert only_hr.execute("multi.sales", "SELECT 1").status is ExecStatus.UNKNOWN_DB
        assert mixed.list_databases() == ["concert", "multi.sales"]
    finally:
        only_hr.close()
        mixed.close()


def test_unnamed_config_lists_databases_and_schemas(postgres_server, multi_schema_db):
    manager = DatabaseManager("postgres", postgres_server.config())
    try:
        names = manager.list_databases()
        assert "postgres" not in names
        assert {"concert", "pets", "multi.hr", "multi.sales"} <= set(names)
        print(f"\nPostgreSQL: {manager.server_version()}")
    finally:
        manager.close()


def test_server_versions(mariadb_server, postgres_server):
    mysql = DatabaseManager("mysql", mariadb_server.config())
    assert "MariaDB" in mysql.server_version() and mysql.engine.is_mariadb
    assert mysql.engine_name == "MySQL"  # the contract's name; the flavour is separate
    print(f"\nMariaDB: {mysql.server_version()}")
    mysql.close()
