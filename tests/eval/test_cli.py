import json
import sqlite3
from types import SimpleNamespace

from sqlsynth.cli.eval import run_eval


def test_run_eval_writes_json_report(tmp_path, capsys):
    db = tmp_path / "shop.sqlite"
    con = sqlite3.connect(db)
    con.executescript("CREATE TABLE t (a INT); INSERT INTO t VALUES (1), (2);")
    con.close()
    gold = tmp_path / "gold.sql"
    gold.write_text("SELECT a FROM t\tshop\nSELECT count(*) FROM t\tshop\n")
    pred = tmp_path / "pred.sql"
    pred.write_text("SELECT a FROM t WHERE a > 0\nSELECT count(a) FROM t\n")
    cfg = SimpleNamespace(db=str(db), query_timeout=5.0, max_rows=100, out=str(tmp_path))
    report_path = tmp_path / "report.json"
    assert run_eval(cfg, pred=str(pred), gold=str(gold), json_out=str(report_path)) == 0
    data = json.loads(report_path.read_text())
    assert data["levels"]["all"]["count"] == 2
    assert data["levels"]["all"]["exec_correct"] == 2
    assert data["levels"]["all"]["exact_correct"] == 0
    assert "execution (EX)" in capsys.readouterr().out


def test_run_eval_reports_input_errors(tmp_path, capsys):
    gold = tmp_path / "gold.sql"
    gold.write_text("SELECT 1 without tab\n")
    cfg = SimpleNamespace(db=str(tmp_path), query_timeout=5.0, max_rows=100, out=str(tmp_path))
    assert run_eval(cfg, pred=str(gold), gold=str(gold)) == 2
    assert "gold.sql:1" in capsys.readouterr().err
    assert run_eval(cfg, pred=None, gold=str(gold)) == 2
