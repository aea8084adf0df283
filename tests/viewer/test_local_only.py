"""The review app answers only its own local tab (Host, Origin, body size, CSP) and survives
any stored SQL (a deeply nested or huge statement in final.jsonl)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from sqlsynth.viewer.app import ReviewState, build_app
from sqlsynth.viewer.card import render_card
from sqlsynth.viewer.local_only import MAX_BODY
from sqlsynth.viewer.run_folder import RunFolder

DEEP = "SELECT " + "(" * 5000 + "1" + ")" * 5000


@pytest.fixture
def hostile_run(run_dir: Path) -> Path:
    final = run_dir / "final.jsonl"
    rows = [json.loads(line) for line in final.read_text().splitlines() if line.strip()]
    extra = [{**rows[0], "SQL": DEEP, "question": "deep"},
             {**rows[0], "SQL": "SELECT '" + "x " * 200_000 + "'", "question": "huge"}]
    deep_json = "[" * 100_000 + "]" * 100_000
    final.write_text("".join(json.dumps(r) + "\n" for r in rows + extra) + deep_json + "\n")
    return run_dir


def _client(run_dir: Path, port: int | None = None, **kw) -> TestClient:
    return TestClient(build_app(ReviewState(run_dir, None, {}), port), **kw)


def test_stored_sql_of_any_depth_or_size_renders(hostile_run: Path) -> None:
    with _client(hostile_run) as c:
        assert c.get("/api/summary").status_code == 200
        rows = c.get("/api/rows", params={"limit": 500}).json()["rows"]
        for row in rows:
            assert c.get(f"/api/rows/{row['key']}").status_code == 200
        assert c.get("/report").status_code == 200
    assert "<html" in render_card(RunFolder.load(hostile_run), {})


def test_host_and_origin_are_checked(run_dir: Path) -> None:
    with _client(run_dir, 8123, base_url="http://127.0.0.1:8123") as c:
        assert c.get("/api/summary").status_code == 200
        assert c.get("/api/summary", headers={"host": "evil.example:8123"}).status_code == 400
        assert c.get("/api/summary", headers={"host": "127.0.0.1:9999"}).status_code == 400
        assert c.get("/api/summary", headers={"host": "localhost:8123"}).status_code == 200
        key = c.get("/api/rows").json()["rows"][0]["key"]
        url = f"/api/rows/{key}/mark"
        evil = c.post(url, json={"status": "reject"}, headers={"origin": "http://evil.example"})
        assert evil.status_code == 403
        site = c.post(url, json={"status": "reject"}, headers={"sec-fetch-site": "cross-site"})
        assert site.status_code == 403
        ok = c.post(url, json={"status": "reject"}, headers={"origin": "http://127.0.0.1:8123"})
        assert ok.status_code == 200


def test_a_large_body_is_refused_before_it_is_read(run_dir: Path) -> None:
    with _client(run_dir) as c:
        key = c.get("/api/rows").json()["rows"][0]["key"]
        big = json.dumps({"status": "reject", "note": "x" * (MAX_BODY + 1)})
        res = c.post(f"/api/rows/{key}/mark", content=big,
                     headers={"content-type": "application/json"})
        assert res.status_code == 413
        assert not (run_dir / "review.jsonl").exists() or \
            len((run_dir / "review.jsonl").read_bytes()) < MAX_BODY


def test_every_answer_carries_a_content_security_policy(run_dir: Path) -> None:
    with _client(run_dir) as c:
        for path in ("/", "/report", "/api/summary", "/static/viewer.js"):
            policy = c.get(path).headers["content-security-policy"]
            assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
