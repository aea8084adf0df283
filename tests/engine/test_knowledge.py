"""The encoding knowledge table: persistence, deduplication, user imports, alignment."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sqlsynth.engine.alignment import char_ngram_vectors, choose_entries, cosine_matrix
from sqlsynth.engine.knowledge import KnowledgeEntry, KnowledgeTable, main, safe_file_stem


def entry(keyword: str, value, column: str = "state") -> KnowledgeEntry:
    return KnowledgeEntry(keyword, "shop", "customers", column, value)


def test_entries_persist_and_deduplicate(tmp_path):
    table = KnowledgeTable(tmp_path, "shop")
    assert table.add([entry("California", "CA"), entry("california ", "CA")]) == [
        entry("California", "CA")
    ]
    assert table.add([entry("California", "CA")]) == []
    table.add([entry("Texas", "TX")])
    reopened = KnowledgeTable(tmp_path, "shop")
    assert [e.value for e in reopened.entries()] == ["CA", "TX"]
    assert len(table.path.read_text().splitlines()) == 2


def test_truncated_line_is_skipped_not_fatal(tmp_path):
    table = KnowledgeTable(tmp_path, "shop")
    table.add([entry("California", "CA")])
    with table.path.open("a") as handle:
        handle.write('{"keyword": "Tex')  # a crash in the middle of a write
    assert [e.value for e in KnowledgeTable(tmp_path, "shop").entries()] == ["CA"]


def test_csv_import_types_values_and_marks_user_source(tmp_path):
    csv_file = tmp_path / "map.csv"
    csv_file.write_text("keyword,table,column,value,note\n"
                        "GDP growth rate,indicators,roworder,5,see manual\n"
                        "zip code,customers,zip,007,\n", encoding="utf-8")
    added = KnowledgeTable(tmp_path, "econ").import_file(csv_file)
    assert [(e.value, e.source, e.note) for e in added] == [(5, "user", "see manual"),
                                                            ("007", "user", "")]


@pytest.mark.parametrize("line, message", [
    ('{"keyword": "x", "table": "t", "column": "c"}', "map.jsonl:2: field 'value'"),
    ('{"keyword": "", "table": "t", "column": "c", "value": 1}', "map.jsonl:2: field 'keyword'"),
    ('{"keyword": "x", "table": "t", "column": "c", "value": 1, "db_id": "other"}',
     "map.jsonl:2: field 'db_id'"),
    ("[1, 2]", "map.jsonl:2: expected a JSON object"),
    ("{oops", "map.jsonl:2: malformed JSON"),
])
def test_bad_rows_name_file_line_and_field(tmp_path, line, message):
    path = tmp_path / "map.jsonl"
    good = json.dumps({"keyword": "a", "table": "t", "column": "c", "value": 1})
    path.write_text(good + "\n" + line + "\n", encoding="utf-8")
    table = KnowledgeTable(tmp_path / "k", "econ")
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        table.import_file(path)
    assert table.entries() == []  # nothing from a bad file


def test_cli_helper_imports(tmp_path, capsys):
    path = tmp_path / "map.jsonl"
    path.write_text(json.dumps({"keyword": "jobless rate", "table": "indicators",
                                "column": "roworder", "value": 7}) + "\n", encoding="utf-8")
    assert main(["--knowledge-dir", str(tmp_path / "k"), "--db-id", "econ", str(path)]) == 0
    assert "1 new entries" in capsys.readouterr().out
    assert KnowledgeTable(tmp_path / "k", "econ").entries()[0].value == 7


def test_odd_db_ids_get_distinct_safe_file_names():
    assert safe_file_stem("retail_orders") == "retail_orders"
    assert safe_file_stem("a/b") != safe_file_stem("a_b")
    assert "/" not in safe_file_stem("../../etc/passwd")


def test_choice_takes_most_similar_keyword_and_breaks_ties_by_priority():
    entries = [entry("California", "California City", "city"), entry("California", "CA"),
               entry("Texas", "TX")]
    sim = cosine_matrix(char_ngram_vectors(["california", "Texas", "Mars"]),
                        char_ngram_vectors([e.keyword for e in entries]))
    priority = {entries[1].key(): 0, entries[0].key(): 5}
    choices, skipped = choose_entries(["california", "Texas", "Mars"], entries, sim,
                                      min_similarity=0.3, priority=priority)
    assert [(c.keyword, c.entry.value) for c in choices] == [("california", "CA"),
                                                             ("Texas", "TX")]
    assert skipped[0]["keyword"] == "Mars" and "below" in skipped[0]["reason"]
    assert np.isclose(choices[0].similarity, 1.0)


def test_concurrent_appends_from_threads_keep_one_line_per_entry(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    table = KnowledgeTable(tmp_path, "shop")
    batch = [entry(f"kw{i}", f"V{i}") for i in range(50)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: table.add(batch), range(8)))
    lines = table.path.read_text().splitlines()
    assert len(lines) == 50 and len(set(lines)) == 50
