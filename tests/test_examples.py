"""The bundled example databases and input files are what the README and other tests rely on."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from sqlsynth.examples import EXAMPLE_DB_IDS, example_db_root, example_file
from sqlsynth.examples.build_databases import BUILDERS, build_database, main

KINDS = {"abbreviation", "synonym", "case", "spacing", "code"}


def _connect(db_id: str, root: Path | None = None) -> sqlite3.Connection:
    path = (root or example_db_root()) / db_id / f"{db_id}.sqlite"
    assert path.is_file(), path
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _tables(con: sqlite3.Connection) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]


def _jsonl(name: str) -> list[dict]:
    rows = []
    for i, line in enumerate(example_file(name).read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"{name}:{i}: blank line"
        rows.append(json.loads(line))
    return rows


def test_bundled_ids_match_builders():
    assert set(EXAMPLE_DB_IDS) == set(BUILDERS)
    assert len(EXAMPLE_DB_IDS) >= 3


@pytest.mark.parametrize("db_id", EXAMPLE_DB_IDS)
def test_database_shape(db_id):
    path = example_db_root() / db_id / f"{db_id}.sqlite"
    assert path.stat().st_size < 1.5 * 2**20
    con = _connect(db_id)
    tables = _tables(con)
    assert len(tables) >= 5
    total = sum(con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables)
    assert total >= 2000
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    with_fk = [t for t in tables if con.execute(f'PRAGMA foreign_key_list("{t}")').fetchall()]
    assert len(with_fk) >= 3
    for t in tables:
        (ddl,) = con.execute("SELECT sql FROM sqlite_master WHERE name = ?", (t,)).fetchone()
        for col in con.execute(f'PRAGMA table_info("{t}")').fetchall():
            line = next(ln for ln in ddl.splitlines() if ln.strip().startswith(col[1] + " "))
            assert re.search(r"--\s*\S", line), f"{db_id}.{t}.{col[1]} has no comment"


@pytest.mark.parametrize("db_id", EXAMPLE_DB_IDS)
def test_foreign_keys_point_at_keys(db_id):
    con = _connect(db_id)
    for t in _tables(con):
        for fk in con.execute(f'PRAGMA foreign_key_list("{t}")').fetchall():
            ref_table, ref_col = fk[2], fk[4]
            assert ref_table in _tables(con)
            unique = any(
                [c[2] for c in con.execute(f'PRAGMA index_info("{ix[1]}")')] == [ref_col]
                for ix in con.execute(f'PRAGMA index_list("{ref_table}")') if ix[2]
            ) or [c[1] for c in con.execute(f'PRAGMA table_info("{ref_table}")') if c[5]] == [
                ref_col]
            assert unique, f"{db_id}: {t}.{fk[3]} -> {ref_table}.{ref_col} is not a key"


def test_generator_reproduces_bundled_files(tmp_path):
    assert main(["--out", str(tmp_path), "regional_economy"]) == 0
    for db_id in EXAMPLE_DB_IDS:
        if db_id != "regional_economy":
            build_database(db_id, tmp_path)
        fresh, bundled = _connect(db_id, tmp_path), _connect(db_id)
        assert _tables(fresh) == _tables(bundled)
        for t in _tables(bundled):
            query = f'SELECT * FROM "{t}" ORDER BY 1, 2'
            assert fresh.execute(query).fetchall() == bundled.execute(query).fetchall(), t


def test_unknown_database_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown example database"):
        build_database("nope", tmp_path)
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path), "nope"])


def test_value_mentions_exist_in_named_columns():
    rows = _jsonl("value_mentions.jsonl")
    per_db: dict[str, int] = {}
    for i, row in enumerate(rows, 1):
        assert set(row) == {"db_id", "table", "column", "stored_value", "mention", "kind"}, i
        assert row["kind"] in KINDS, i
        assert row["mention"] != row["stored_value"], i
        con = _connect(row["db_id"])
        cols = [c[1] for c in con.execute(f'PRAGMA table_info("{row["table"]}")')]
        assert row["column"] in cols, f"value_mentions.jsonl:{i}: no column {row['column']}"
        (n,) = con.execute(f'SELECT COUNT(*) FROM "{row["table"]}" WHERE "{row["column"]}" = ?',
                           (row["stored_value"],)).fetchone()
        assert n > 0, f"value_mentions.jsonl:{i}: {row['stored_value']!r} not stored"
        per_db[row["db_id"]] = per_db.get(row["db_id"], 0) + 1
    assert all(per_db.get(d, 0) >= 10 for d in EXAMPLE_DB_IDS), per_db
    assert {r["kind"] for r in rows} == KINDS


def test_readme_lists_every_mention():
    readme = (example_db_root() / "README.md").read_text(encoding="utf-8")
    for row in _jsonl("value_mentions.jsonl"):
        assert f"| {row['mention']} |" in readme, row


def test_refine_input_all_valid_but_one():
    rows = _jsonl("refine_input.jsonl")
    assert len(rows) >= 10
    assert {r["db_id"] for r in rows} == set(EXAMPLE_DB_IDS)
    failures = []
    for row in rows:
        assert set(row) == {"id", "db_id", "SQL"}
        try:
            _connect(row["db_id"]).execute(row["SQL"]).fetchall()
        except sqlite3.OperationalError as exc:
            failures.append((row["id"], str(exc)))
    assert failures == [("r05", "no such column: customer_name")]


def test_questions_have_non_empty_gold_results():
    rows = _jsonl("questions.jsonl")
    assert len(rows) >= 10
    assert {r["db_id"] for r in rows} == set(EXAMPLE_DB_IDS)
    for row in rows:
        assert set(row) == {"db_id", "question", "SQL"}
        result = _connect(row["db_id"]).execute(row["SQL"]).fetchall()
        assert result and result[0][0] is not None, row["question"]


def test_empty_file_and_missing_file():
    assert example_file("empty.jsonl").read_bytes() == b""
    with pytest.raises(FileNotFoundError, match="refine_input.jsonl"):
        example_file("no_such_file.jsonl")
