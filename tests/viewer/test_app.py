"""The review app's HTTP API on a real run folder (Starlette's test client, no browser)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from sqlsynth.viewer.app import ReviewState, build_app
from sqlsynth.viewer.run_folder import REVIEW_FILE, RunFolder


@pytest.fixture
def client(run_dir: Path):
    state = ReviewState(run_dir, None, {"scripted": (1.0, 2.0)})
    with TestClient(build_app(state)) as c:
        yield c


def test_summary_lists_filters_funnel_and_cost(client: TestClient, run_dir: Path) -> None:
    s = client.get("/api/summary").json()
    run = RunFolder.load(run_dir)
    assert s["counts"]["rows"] == len(run.rows)
    assert s["options"]["db"] == sorted({r["db_id"] for r in run.rows})
    assert [f["name"] for f in s["funnel"]][:2] == ["SQLGenerator", "SQLExecutabilityFilter"]
    assert s["total_usd"] > 0 and s["usage"][0]["model"] == "scripted"
    assert s["database"]["error"] is None


def test_rows_filter_detail_and_live_result(client: TestClient, run_dir: Path) -> None:
    run = RunFolder.load(run_dir)
    db_id = run.rows[0]["db_id"]
    page = client.get("/api/rows", params={"db": db_id}).json()
    assert page["total"] == sum(r["db_id"] == db_id for r in run.rows)
    key = page["rows"][0]["key"]
    detail = client.get(f"/api/rows/{key}").json()
    assert detail["row"]["db_id"] == db_id and '<span class="k">' in detail["sql_html"]
    result = client.get(f"/api/rows/{key}/result").json()
    assert result["status"] == "ok" and result["columns"]
    assert client.get("/api/rows/nope").status_code == 404


def test_live_results_are_read_only(client: TestClient, run_dir: Path) -> None:
    """A row whose SQL writes is answered 'forbidden' by the safe executor, not run."""
    final = run_dir / "final.jsonl"
    rows = [json.loads(x) for x in final.read_text().splitlines()]
    db_id = rows[0]["db_id"]
    hostile = {"db_id": db_id, "question": "drop it", "SQL": "DROP TABLE IF EXISTS x"}
    final.write_text(final.read_text() + json.dumps(hostile) + "\n")
    state = ReviewState(run_dir, None, {})
    with TestClient(build_app(state)) as c:
        key = c.get("/api/rows", params={"q": "drop it"}).json()["rows"][0]["key"]
        assert c.get(f"/api/rows/{key}/result").json()["status"] == "forbidden"


def test_marks_are_saved_and_validated(client: TestClient, run_dir: Path) -> None:
    key = client.get("/api/rows").json()["rows"][0]["key"]
    saved = client.post(f"/api/rows/{key}/mark", json={"status": "reject", "note": "bad"}).json()
    assert saved["mark"]["status"] == "reject" and saved["marks"]["reject"] == 1
    line = json.loads((run_dir / REVIEW_FILE).read_text())
    assert line["key"] == key and line["note"] == "bad"
    assert client.post(f"/api/rows/{key}/mark", json={"status": "maybe"}).status_code == 400
    assert client.post(f"/api/rows/{key}/mark", content=b"{",
                       headers={"content-type": "application/json"}).status_code == 400
    rows = client.get("/api/rows", params={"review": "reject"}).json()
    assert [r["key"] for r in rows["rows"]] == [key]


def test_rejects_grouped_and_filtered(client: TestClient, run_dir: Path) -> None:
    run = RunFolder.load(run_dir)
    data = client.get("/api/rejects").json()
    assert data["total"] == len(run.rejects)
    assert sum(g["count"] for g in data["groups"]) == len(run.rejects)
    if run.rejects:
        reason = run.rejects[0]["reason"]
        only = client.get("/api/rejects", params={"reason": reason}).json()
        assert {g["reason"] for g in only["groups"]} == {reason}


def test_without_a_database_results_say_why(run_dir: Path) -> None:
    (run_dir / "sqlsynth_runs.jsonl").unlink()
    state = ReviewState(run_dir, None, {})
    with TestClient(build_app(state)) as c:
        key = c.get("/api/rows").json()["rows"][0]["key"]
        res = c.get(f"/api/rows/{key}/result").json()
        assert res["status"] == "unavailable" and "--db" in res["error"]


def test_marks_need_json_and_a_local_host_name(client: TestClient) -> None:
    key = client.get("/api/rows").json()["rows"][0]["key"]
    body = '{"status": "reject"}'
    plain = client.post(f"/api/rows/{key}/mark", content=body,
                        headers={"content-type": "text/plain"})
    assert plain.status_code == 415
    assert client.get("/api/summary", headers={"host": "evil.example"}).status_code == 400
    assert client.get("/api/summary", headers={"host": "127.0.0.1:8000"}).status_code == 200
    assert client.get("/api/rows", params={"review": "reject"}).json()["total"] == 0


def test_a_taken_port_is_a_clear_error() -> None:
    from sqlsynth.viewer.app import free_socket

    taken = free_socket()
    try:
        with pytest.raises(ValueError, match="choose another --port"):
            free_socket(taken.getsockname()[1])
    finally:
        taken.close()


def test_a_recorded_url_without_its_password_asks_for_db(run_dir: Path) -> None:
    runs = run_dir / "sqlsynth_runs.jsonl"
    record = json.loads(runs.read_text().splitlines()[-1])
    record["db"] = "postgresql://me:***@127.0.0.1:5432/"
    runs.write_text(json.dumps(record) + "\n")
    state = ReviewState(run_dir, None, {})
    assert state.db_error is not None and "pass --db" in state.db_error
    from sqlsynth.factory import example_databases

    given = ReviewState(run_dir, example_databases(), {})
    assert given.db_error is None and given.database() is not None
