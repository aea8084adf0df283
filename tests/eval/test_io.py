import json

import pytest

from sqlsynth.eval import EvalItem, InputFormatError, load_pairs


def _jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_spider_text_formats(tmp_path):
    gold = tmp_path / "gold.sql"
    gold.write_text("SELECT a FROM t\tdb1\n\nSELECT b FROM s\tdb2\n", encoding="utf-8")
    pred = tmp_path / "pred.txt"
    pred.write_text("select a from t\nselect b from s\n", encoding="utf-8")
    assert load_pairs(pred, gold) == [
        EvalItem("db1", "SELECT a FROM t", "select a from t"),
        EvalItem("db2", "SELECT b FROM s", "select b from s"),
    ]


def test_jsonl_field_names_and_question(tmp_path):
    gold = _jsonl(tmp_path / "gold.jsonl", [
        {"db_id": "d", "query": "SELECT 1", "question": "one?"},
        {"db_id": "d", "SQL": "SELECT 2"},
    ])
    pred = _jsonl(tmp_path / "pred.jsonl", [{"sql": "SELECT 1"}, {"SQL": None}])
    items = load_pairs(pred, gold)
    assert items[0] == EvalItem("d", "SELECT 1", "SELECT 1", "one?")
    assert items[1].pred_sql is None


def test_spider_dev_json_array(tmp_path):
    gold = tmp_path / "dev.json"
    gold.write_text(json.dumps([{"db_id": "d", "query": "SELECT 1", "question": "q"}]))
    pred = tmp_path / "pred.sql"
    pred.write_text("SELECT 1\n")
    assert load_pairs(pred, gold)[0].question == "q"


def test_pairing_by_id(tmp_path):
    gold = _jsonl(tmp_path / "gold.jsonl", [
        {"id": 1, "db_id": "d", "sql": "SELECT 1"},
        {"id": 2, "db_id": "d", "sql": "SELECT 2"},
        {"id": 3, "db_id": "d", "sql": "SELECT 3"},
    ])
    pred = _jsonl(tmp_path / "pred.jsonl", [{"id": 2, "sql": "P2"}, {"id": 1, "sql": "P1"}])
    items = load_pairs(pred, gold)
    assert [(i.id, i.pred_sql) for i in items] == [("1", "P1"), ("2", "P2"), ("3", None)]


def test_unknown_pred_id_is_an_error(tmp_path):
    gold = _jsonl(tmp_path / "gold.jsonl", [{"id": 1, "db_id": "d", "sql": "SELECT 1"}])
    pred = _jsonl(tmp_path / "pred.jsonl", [{"id": 1, "sql": "a"}, {"id": 9, "sql": "b"}])
    with pytest.raises(InputFormatError) as err:
        load_pairs(pred, gold)
    assert err.value.line == 2 and err.value.field == "id"
    assert "pred.jsonl:2" in str(err.value)


def test_length_mismatch_names_the_files(tmp_path):
    gold = tmp_path / "gold.sql"
    gold.write_text("SELECT 1\td\nSELECT 2\td\n")
    pred = tmp_path / "pred.sql"
    pred.write_text("SELECT 1\n")
    with pytest.raises(InputFormatError, match="1 predictions for 2 gold"):
        load_pairs(pred, gold)


@pytest.mark.parametrize(
    ("gold_rows", "line", "field"),
    [
        ([{"db_id": "d", "sql": "SELECT 1"}, {"db_id": "d"}], 2, "SQL"),
        ([{"sql": "SELECT 1"}], 1, "db_id"),
        ([{"db_id": "d", "sql": 5}], 1, "sql"),
        ([{"db_id": "d", "sql": "  "}], 1, "SQL"),
    ],
)
def test_gold_errors_name_line_and_field(tmp_path, gold_rows, line, field):
    gold = _jsonl(tmp_path / "gold.jsonl", gold_rows)
    pred = tmp_path / "pred.sql"
    pred.write_text("SELECT 1\n" * len(gold_rows))
    with pytest.raises(InputFormatError) as err:
        load_pairs(pred, gold)
    assert (err.value.path, err.value.line, err.value.field) == (str(gold), line, field)


def test_bad_json_and_missing_tab(tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"db_id": "d", "sql": "SELECT 1"}\n{oops\n')
    pred = tmp_path / "pred.sql"
    pred.write_text("x\ny\n")
    with pytest.raises(InputFormatError, match="gold.jsonl:2"):
        load_pairs(pred, gold)
    gold_txt = tmp_path / "gold.txt"
    gold_txt.write_text("SELECT 1 no tab\n")
    with pytest.raises(InputFormatError) as err:
        load_pairs(tmp_path / "pred.sql", gold_txt)
    assert err.value.line == 1 and err.value.field == "db_id"


def test_pred_db_id_must_agree(tmp_path):
    gold = _jsonl(tmp_path / "gold.jsonl", [{"db_id": "d", "sql": "SELECT 1"}])
    pred = _jsonl(tmp_path / "pred.jsonl", [{"db_id": "other", "sql": "SELECT 1"}])
    with pytest.raises(InputFormatError, match="db_id"):
        load_pairs(pred, gold)


def test_missing_file(tmp_path):
    with pytest.raises(InputFormatError, match="file not found"):
        load_pairs(tmp_path / "nope.sql", tmp_path / "gold.sql")
