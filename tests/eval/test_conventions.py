"""The documented rules (and quirks) of each official convention, on small hand-made cases."""

import json
import sqlite3
from types import SimpleNamespace

import pytest

from sqlsynth.cli.eval import run_eval
from sqlsynth.eval import EvalItem, evaluate, load_pairs
from sqlsynth.eval.conventions import CONVENTIONS, bird, spider2, test_suite
from sqlsynth.eval.conventions.runner import ConventionOptions, evaluate_convention
from sqlsynth.eval.conventions.spider_parser import SpiderSchema, parse_or_empty, parse_spider
from sqlsynth.eval.conventions.spider_tokens import spider_tokens
from sqlsynth.eval.conventions.voting import vote

SCHEMA = """
CREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT, country TEXT, age INTEGER);
CREATE TABLE concert (concert_id INTEGER PRIMARY KEY, singer_id INTEGER
                      REFERENCES singer(singer_id), year INTEGER);
"""
ROWS = """
INSERT INTO singer VALUES (1, 'Ann', 'France', 30), (2, 'Bob', 'USA', 40), (3, 'Cid', 'France', 30);
INSERT INTO concert VALUES (1, 1, 2014), (2, 1, 2015), (3, 2, 2015);
"""


@pytest.fixture
def root(tmp_path):
    folder = tmp_path / "dbs" / "music"
    folder.mkdir(parents=True)
    conn = sqlite3.connect(folder / "music.sqlite")
    conn.executescript(SCHEMA + ROWS)
    conn.commit()
    conn.close()
    return tmp_path / "dbs"


def _judge(root, convention, gold, pred, **kw):
    opts = ConventionOptions(db_root=root, **kw)
    return evaluate_convention([EvalItem("music", gold, pred)], convention, opts).items[0]


# ----- Spider's tokenizer and parser -------------------------------------------------------
def test_tokens_follow_spiders_tokenizer():
    assert spider_tokens("SELECT a FROM t WHERE b != 'X y'") == \
        ["select", "a", "from", "t", "where", "b", "!=", '"X y"']
    assert spider_tokens("SELECT a FROM t WHERE a=b") [-1] == "a=b"  # '=' is not split off
    assert spider_tokens("WHERE a <> 1")[2:4] == ["<", ">"]
    assert "1,2" in spider_tokens("WHERE a IN (1,2)")
    assert spider_tokens("SELECT count(*) FROM t")[:5] == ["select", "count", "(", "*", ")"]


@pytest.mark.parametrize("pred", [
    "SELECT name FROM singer AS T1 INNER JOIN concert AS T2 ON T1.singer_id = T2.singer_id",
    "SELECT name FROM singer AS T1 LEFT JOIN concert AS T2 ON T1.singer_id = T2.singer_id",
    "SELECT name FROM singer WHERE country <> 'USA'",
    "SELECT name AS n FROM singer",
    "SELECT T1.name FROM singer T1",
    "SELECT name FROM singer WHERE true",
    "SELECT name FROM singer WHERE age=30",
    "SELECT count(1) FROM singer",
    "SELECT name FROM singer LIMIT 1.5",
    "SELECT name FROM singer WHERE name = 'it''s",
])
def test_what_spiders_parser_cannot_read(root, pred):
    schema = SpiderSchema.from_sqlite(root / "music" / "music.sqlite")
    assert parse_or_empty(pred, schema)[1] is False
    item = _judge(root, "spider", "SELECT name FROM singer", pred)
    assert item.pred_parsed is False and item.exact_match is False and item.exec_match is False


def test_parser_stops_at_semicolon_and_after_limit(root):
    schema = SpiderSchema.from_sqlite(root / "music" / "music.sqlite")
    gold = "SELECT name FROM singer;"
    assert parse_spider(gold + " LIMIT 1", schema) == parse_spider(gold, schema)
    item = _judge(root, "spider", gold, gold + " LIMIT 1")
    assert item.exact_match is True and item.exec_match is False  # it cannot run


def test_spider_em_ignores_values_and_distinct_maps_foreign_keys(root):
    item = _judge(root, "spider", "SELECT DISTINCT name FROM singer WHERE age > 30",
                  "SELECT name FROM singer WHERE age > 99")
    assert item.exact_match is True and item.exec_match is False
    gold = ("SELECT T2.year FROM singer AS T1 JOIN concert AS T2 "
            "ON T1.singer_id = T2.singer_id WHERE T1.singer_id = 1")
    pred = ("SELECT T2.year FROM singer AS T1 JOIN concert AS T2 "
            "ON T1.singer_id = T2.singer_id WHERE T2.singer_id = 1")
    assert _judge(root, "spider", gold, pred).exact_match is True


def test_spider_ex_keys_by_select_item_and_always_orders_rows(root):
    gold = "SELECT name, age FROM singer"
    assert _judge(root, "spider", gold, "SELECT age, name FROM singer").exec_match is True
    assert _judge(root, "spider", gold,
                  "SELECT name, age FROM singer ORDER BY name DESC").exec_match is False
    # the aggregate is not part of the key: max(age) and min(age) answer 'the same item'
    assert _judge(root, "spider", "SELECT max(age) FROM singer",
                  "SELECT max(age) FROM singer WHERE age > 0").exec_match is True


# ----- test-suite --------------------------------------------------------------------------
def test_test_suite_result_equality():
    assert test_suite.results_equal([(1, "a"), (2, "b")], [("b", 2), ("a", 1)], ordered=False)
    assert not test_suite.results_equal([(1,), (2,)], [(2,), (1,)], ordered=True)
    assert test_suite.results_equal([], [], ordered=True)
    assert not test_suite.results_equal([(1,), (1,)], [(1,)], ordered=False)
    # the script's pre-check sorts each row by str(value)+str(type): 1 and 1.0 can fail it
    assert not test_suite.results_equal([(1, 1.5)], [(1.0, 1.5)], ordered=False)


def test_test_suite_removes_distinct_and_keeps_first_statement():
    assert test_suite.remove_distinct("SELECT DISTINCT a FROM t WHERE b = 'distinct'") == \
        "SELECT  a FROM t WHERE b = 'distinct'"
    assert test_suite.remove_distinct("SELECT a FROM t; LIMIT 1") == "SELECT a FROM t; "


def test_test_suite_convention(root, tmp_path):
    gold = "SELECT name, age FROM singer"
    assert _judge(root, "test-suite", gold, "SELECT age, name FROM singer").exec_match is True
    assert _judge(root, "test-suite", "SELECT count(DISTINCT country) FROM singer",
                  "SELECT count(*) FROM singer").exec_match is True  # DISTINCT removed
    assert _judge(root, "test-suite", "SELECT count(DISTINCT country) FROM singer",
                  "SELECT count(*) FROM singer", keep_distinct=True).exec_match is False
    assert _judge(root, "test-suite", "SELECT name FROM singer ORDER BY age",
                  "SELECT name FROM singer ORDER BY age DESC").exec_match is False
    # a neighbour database where the two queries differ makes the prediction wrong
    suite = tmp_path / "suite" / "music"
    suite.mkdir(parents=True)
    for name, rows in (("music.sqlite", ROWS), ("music_2.sqlite",
                                                 "INSERT INTO singer VALUES (9, 'Zed', 'X', 1);")):
        conn = sqlite3.connect(suite / name)
        conn.executescript(SCHEMA + rows)
        conn.commit()
        conn.close()
    gold, pred = "SELECT name FROM singer WHERE age >= 30", "SELECT name FROM singer"
    assert _judge(root, "test-suite", gold, "SELECT name FROM singer WHERE age > 1") \
        .exec_match is True
    assert _judge(root, "test-suite", gold, pred,
                  suite_root=tmp_path / "suite").exec_match is False


# ----- BIRD --------------------------------------------------------------------------------
def test_bird_rules():
    assert bird.same_row_set([(1,), (1,), (2,)], [(2,), (1,)])
    assert bird.soft_f1([], []) == 1.0
    assert bird.soft_f1([(1, 2)], [(1, 2)]) == 1.0
    assert bird.soft_f1([(1, 9)], [(1, 2)]) == pytest.approx(0.5)
    assert bird.soft_f1([(1, 2), (3, 4)], [(1, 2)]) == pytest.approx(2 / 3)
    assert [bird.reward_for_ratio(r) for r in (0, 0.1, 0.25, 0.5, 1, 1.9, 2, 5)] == \
        [0, 0.25, 0.5, 0.75, 1, 1, 1.25, 1.25]
    assert bird.drop_outliers([1.0] * 20 + [100.0]) == [1.0] * 20
    assert bird.drop_outliers([2.0, 2.0]) == []  # no spread: the script divides by zero -> 0
    assert bird.ves_score([1.0, 0.0]) == 50.0


def test_bird_convention_by_difficulty(root):
    items = [EvalItem("music", "SELECT name FROM singer", "SELECT name FROM singer ORDER BY 1",
                      difficulty="simple"),
             EvalItem("music", "SELECT age FROM singer", "SELECT DISTINCT age FROM singer",
                      difficulty="moderate"),
             EvalItem("music", "SELECT age FROM singer", "SELECT nope FROM singer",
                      difficulty="challenging")]
    report = evaluate_convention(items, "bird", ConventionOptions(db_root=root,
                                                                  ves_iterations=3))
    assert [i.exec_match for i in report.items] == [True, True, False]
    assert set(report.levels) == {"simple", "moderate", "challenging", "all"}
    assert report.levels["all"].exec_correct == 2
    assert report.items[2].ves_reward == 0.0 and report.items[0].ves_reward > 0
    assert json.loads(report.to_json())["levels"]["simple"]["ves"] > 0


# ----- Spider 2.0 --------------------------------------------------------------------------
def test_spider2_table_comparison():
    gold = spider2.read_csv_columns("a,b\n1,x\n2,y\n")
    assert spider2.table_matches(spider2.read_csv_columns("b,a,c\nx,1.001,0\ny,2,0\n"), gold)
    assert not spider2.table_matches(spider2.read_csv_columns("a,b\n1.1,x\n2,y\n"), gold)
    assert not spider2.table_matches(spider2.read_csv_columns("a,b\n2,y\n1,x\n"), gold)
    assert spider2.table_matches(spider2.read_csv_columns("a,b\n2,y\n1,x\n"), gold,
                                 ignore_order=True)
    assert spider2.table_matches(spider2.read_csv_columns("a\n1\n2\n"), gold, [0])
    # a missing cell counts as 0
    assert spider2.table_matches(spider2.read_csv_columns("a\n\"\"\n"),
                                 spider2.read_csv_columns("a\n0\n"))
    assert spider2.extract_sql("text\n```sql\nSELECT 1\n```") == "SELECT 1"


def test_spider2_convention_with_gold_csv(root, tmp_path):
    (tmp_path / "local1.csv").write_text("name\nAnn\nBob\nCid\n")
    (tmp_path / "local2_a.csv").write_text("n\n3\n")
    (tmp_path / "local2_b.csv").write_text("n\n2\n")
    items = [EvalItem("music", "", "SELECT name, age FROM singer", id="local1",
                      gold_meta={"instance_id": "local1"}),
             EvalItem("music", "", "SELECT count(*) FROM singer WHERE country = 'France'",
                      id="local2", gold_meta={"instance_id": "local2"}),
             EvalItem("music", "", "SELECT age FROM singer", id="local1",
                      gold_meta={"instance_id": "local1"})]
    report = evaluate_convention(items, "spider2",
                                 ConventionOptions(db_root=root, gold_dir=tmp_path))
    assert [i.exec_match for i in report.items] == [True, True, False]


# ----- majority voting ---------------------------------------------------------------------
def test_majority_vote_by_execution_result(root):
    db = root / "music" / "music.sqlite"
    a, b = "SELECT name FROM singer WHERE age = 30", "SELECT name FROM singer WHERE age > 35"
    c = "SELECT name FROM singer WHERE country = 'France'"
    assert vote([a, b, c], db) == a  # a and c return the same set of rows
    assert vote([b, a], db) == b  # a tie goes to the group seen first
    assert vote(["SELECT nope", "SELECT also nope"], db) == "SELECT nope"
    assert vote(["SELECT nope", b], db) == b


def test_voting_in_prediction_files(root, tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"db_id": "music", "SQL": "SELECT name FROM singer "
                                "WHERE country = 'France'", "id": 1}) + "\n")
    pred = tmp_path / "pred.jsonl"
    pred.write_text(json.dumps({"id": 1, "SQL": [
        "SELECT name FROM singer WHERE age > 35", "SELECT name FROM singer WHERE age = 30",
        "SELECT name FROM singer WHERE singer_id IN (1, 3)"]}) + "\n")
    pairs = load_pairs(pred, gold)
    assert len(pairs[0].candidates) == 3
    for convention in ("bird", "test-suite"):
        report = evaluate(pairs, None, convention=convention,
                          options=ConventionOptions(db_root=root, with_ves=False))
        assert report.items[0].exec_match is True and report.items[0].candidates == 3


def test_sqlsynth_convention_votes_through_the_database_layer(root):
    from sqlsynth.db import DatabaseManager

    manager = DatabaseManager(db_type="sqlite", config={"root_path": str(root)}, timeout=5.0)
    try:
        item = EvalItem("music", "SELECT name FROM singer WHERE country = 'France'", None,
                        candidates=("SELECT name FROM singer WHERE age > 35",
                                    "SELECT name FROM singer WHERE age = 30",
                                    "SELECT name FROM singer WHERE singer_id IN (1, 3)",
                                    "SELECT broken"))
        report = evaluate([item], manager)
    finally:
        manager.close()
    assert report.items[0].pred_sql == "SELECT name FROM singer WHERE age = 30"
    assert report.items[0].exec_match is True


# ----- command line ------------------------------------------------------------------------
def test_cli_convention_flag_and_help(root, tmp_path, capsys):
    from sqlsynth.cli import build_parser

    help_text = build_parser()._subparsers._group_actions[0].choices["eval"].format_help()
    for c in CONVENTIONS.values():
        assert c.name in help_text
    assert "b7b5b8c" in " ".join(help_text.split())
    gold = tmp_path / "gold.sql"
    gold.write_text("SELECT name FROM singer\tmusic\nSELECT name FROM singer\tmusic\n")
    pred = tmp_path / "pred.sql"
    pred.write_text("SELECT name FROM singer\nSELECT name AS n FROM singer\n")
    out = tmp_path / "report.json"
    args = build_parser().parse_args(["eval", "--db", str(root), "--gold", str(gold),
                                      "--pred", str(pred), "--convention", "spider",
                                      "--json", str(out)])
    cfg = SimpleNamespace(db=str(root), query_timeout=5.0, max_rows=100, out=str(tmp_path))
    assert run_eval(cfg, pred=str(pred), gold=str(gold), json_out=str(out), flags=args) == 0
    data = json.loads(out.read_text())
    assert data["convention"] == "spider" and "evaluation.py" in data["follows"]
    assert data["levels"]["all"]["exact_correct"] == 1  # the column alias is unreadable
    assert data["levels"]["all"]["exec_correct"] == 1
    assert data["levels"]["all"]["unparsed"] == 1
    assert "convention spider" in capsys.readouterr().out


def test_bird_prediction_file_format_and_difficulty_file(root, tmp_path, capsys):
    from sqlsynth.cli import build_parser

    gold = tmp_path / "gold.sql"
    gold.write_text("SELECT name FROM singer\tmusic\nSELECT age FROM singer\tmusic\n")
    pred = tmp_path / "predict.json"
    pred.write_text(json.dumps({"0": "SELECT name FROM singer ORDER BY age\t----- bird -----\t"
                                "music", "1": None}, indent=2))
    diff = tmp_path / "diff.jsonl"
    diff.write_text('{"difficulty": "simple"}\n{"difficulty": "challenging"}\n')
    pairs = load_pairs(pred, gold)
    assert pairs[0].pred_sql == "SELECT name FROM singer ORDER BY age" and pairs[1].pred_sql is None
    out = tmp_path / "r.json"
    args = build_parser().parse_args(["eval", "--db", str(root), "--gold", str(gold), "--pred",
                                      str(pred), "--convention", "bird", "--no-ves",
                                      "--difficulty", str(diff), "--json", str(out)])
    cfg = SimpleNamespace(db=str(root), query_timeout=5.0, max_rows=100, out=str(tmp_path))
    assert run_eval(cfg, pred=str(pred), gold=str(gold), json_out=str(out), flags=args) == 0
    levels = json.loads(out.read_text())["levels"]
    assert levels["simple"]["exec_correct"] == 1 and levels["challenging"]["exec_correct"] == 0
    assert "Soft-F1" in capsys.readouterr().out


def test_spider2_from_the_command_line(root, tmp_path):
    from sqlsynth.cli import build_parser

    (tmp_path / "local1.csv").write_text("n\n2\n")
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"instance_id": "local1", "db": "music", "condition_cols": [],
                                "ignore_order": True}) + "\n")
    pred = tmp_path / "pred.jsonl"
    pred.write_text(json.dumps({"instance_id": "local1", "SQL": "```sql\nSELECT count(*), 'x' "
                                "FROM singer WHERE country = 'France'\n```"}) + "\n")
    out = tmp_path / "r.json"
    args = build_parser().parse_args(["eval", "--db", str(root), "--gold", str(gold), "--pred",
                                      str(pred), "--convention", "spider2", "--json", str(out)])
    cfg = SimpleNamespace(db=str(root), query_timeout=5.0, max_rows=100, out=str(tmp_path))
    assert run_eval(cfg, pred=str(pred), gold=str(gold), json_out=str(out), flags=args) == 0
    assert json.loads(out.read_text())["levels"]["all"]["exec_correct"] == 1


def test_runaway_prediction_is_stopped_and_scored_as_failed(root):
    runaway = ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
               "SELECT count(*) FROM r")
    for convention in ("spider", "test-suite", "bird"):
        item = _judge(root, convention, "SELECT count(*) FROM singer", runaway, timeout=0.3,
                      with_ves=False)
        assert item.exec_match is False
        assert item.pred_status == "timeout", convention


def test_python_api_takes_the_sqlite_folder_from_a_manager(root):
    from sqlsynth.db import DatabaseManager

    manager = DatabaseManager(db_type="sqlite", config={"root_path": str(root)}, timeout=5.0)
    try:
        report = evaluate([EvalItem("music", "SELECT name, age FROM singer",
                                    "SELECT age, name FROM singer")], manager,
                          convention="test-suite")
    finally:
        manager.close()
    assert report.convention == "test-suite" and report.items[0].exec_match is True


def test_official_convention_with_every_database_missing_is_an_error(tmp_path, capsys):
    """issue 21: not "N gold errors, EX 0.000" and exit 0, but the reason and a non-zero exit."""
    from sqlsynth.cli import build_parser
    from sqlsynth.cli.eval import run_eval

    gold = tmp_path / "gold.sql"
    gold.write_text("SELECT name FROM singer\tconcert_singer\n")
    pred = tmp_path / "pred.sql"
    pred.write_text("SELECT name FROM singer\n")
    empty = tmp_path / "dbs"
    empty.mkdir()
    args = build_parser().parse_args(["eval", "--db", str(empty), "--gold", str(gold),
                                      "--pred", str(pred), "--convention", "spider"])
    cfg = SimpleNamespace(db=str(empty), query_timeout=5.0, max_rows=100, out=str(tmp_path))
    assert run_eval(cfg, pred=str(pred), gold=str(gold), flags=args) == 2
    err = capsys.readouterr().err
    assert "concert_singer" in err and "none of the 1 databases" in err
