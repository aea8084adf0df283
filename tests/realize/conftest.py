"""A small schema with comments, a self-reference and awkward names, shared by the realizer
tests; and the corpora (bundled examples, Spider dev) that the mention check runs over."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sqlsynth.db.schema import Column, ForeignKey, Schema, Table

SPIDER = Path("/work/shared/data/spider")
EXAMPLES = Path(__file__).resolve().parents[2] / "sqlsynth" / "examples"


def shop_schema(dialect: str = "sqlite") -> Schema:
    return Schema("shop", [
        Table("customers", [
            Column("customer_id", "INTEGER"), Column("FirstName", "TEXT"),
            Column("city", "TEXT"), Column("loyalty_tier", "TEXT",
                                            comment="BRZ bronze, GLD gold"),
            Column("signup_date", "TEXT"), Column("Unit Price", "REAL"),
        ], primary_key=["customer_id"]),
        Table("orders", [
            Column("order_id", "INTEGER"), Column("customer_id", "INTEGER"),
            Column("amount", "REAL", comment="order total in USD"), Column("status", "TEXT"),
            Column("order", "INTEGER"),
        ], primary_key=["order_id"],
            foreign_keys=[ForeignKey(["customer_id"], "customers", ["customer_id"])]),
        Table("employee", [
            Column("employee_id", "INTEGER"), Column("name", "TEXT"),
            Column("manager_id", "INTEGER"),
        ], primary_key=["employee_id"],
            foreign_keys=[ForeignKey(["manager_id"], "employee", ["employee_id"])]),
    ], dialect=dialect)


@pytest.fixture
def shop() -> Schema:
    return shop_schema()


def example_rows() -> list[dict]:
    rows = []
    for name in ("questions.jsonl", "refine_input.jsonl"):
        with open(EXAMPLES / name, encoding="utf-8") as handle:
            rows += [json.loads(line) for line in handle if line.strip()]
    return rows


def spider_rows() -> list[tuple[str, str]]:
    """(SQL, db_id) of the Spider dev gold queries; skips the test when the data is absent."""
    gold = SPIDER / "dev_gold.sql"
    if not gold.exists() or not (SPIDER / "tables.json").exists():
        pytest.skip(f"Spider dev data not found under {SPIDER} (dev_gold.sql, tables.json)")
    lines = gold.read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t")) for line in lines if line.strip()]
