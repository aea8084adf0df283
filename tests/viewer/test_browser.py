"""The viewer and the data card in a real headless Chromium (Debian's), driven by Playwright.

The viewer runs as ``sqlsynth view`` in a subprocess, exactly as a user starts it; the page
must load with no console errors, filters and marks must work, and ``sqlsynth export`` must
leave out the rows marked 'reject'. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sqlsynth.cli import main
from sqlsynth.viewer.run_folder import RunFolder

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
if not os.path.exists(CHROMIUM):
    pytest.skip("Debian's chromium is not installed (scripts/install_browser.sh)",
                allow_module_level=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    pg.errors = []  # console errors, page exceptions and failed requests
    pg.on("console", lambda m: m.type == "error" and pg.errors.append(m.text))
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.on("requestfailed", lambda r: pg.errors.append(f"failed: {r.url}"))
    pg.external = []
    pg.on("request", lambda r: not r.url.startswith(("http://127.0.0.1", "data:", "file:"))
          and pg.external.append(r.url))
    yield pg
    context.close()


@pytest.fixture
def viewer(run_dir: Path) -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-m", "sqlsynth.cli", "view", str(run_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    url = None
    deadline = time.monotonic() + 60
    assert proc.stdout is not None
    while url is None and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        found = re.search(r"open (http://127\.0\.0\.1:\d+/)", line)
        url = found.group(1) if found else None
    if url is None:
        proc.kill()
        pytest.fail(f"viewer printed no URL: {proc.stderr.read() if proc.stderr else ''}")
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _wait_count(page, n: int) -> None:
    # expect() polls through Playwright's selector engine: the app's CSP forbids the string
    # evaluation that wait_for_function(str) needs
    expect(page.locator("#row-count")).to_have_text(re.compile(f"of {n}$"), timeout=20_000)


def test_viewer_filters_marks_and_export(page, viewer: str, run_dir: Path, artifacts: Path,
                                         tmp_path: Path) -> None:
    run = RunFolder.load(run_dir)
    page.goto(viewer)
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    total = len(run.rows)
    assert page.locator("#row-table tbody tr").count() == min(total, 50)
    assert f"of {total}" in page.inner_text("#row-count")

    # filter by database
    db_id = run.rows[0]["db_id"]
    expected = sum(r["db_id"] == db_id for r in run.rows)
    page.select_option("#f-db", db_id)
    _wait_count(page, expected)
    cells = page.locator("#row-table tbody tr td:nth-child(2)").all_inner_texts()
    assert set(cells) == {db_id}

    # open a row: highlighted SQL and its live result
    page.locator("#row-table tbody tr").first.click()
    page.wait_for_selector("#result-table", timeout=20_000)
    assert page.locator("#detail-sql span.k").count() > 0
    question = page.inner_text("#detail-question")

    # mark it rejected, with a note
    page.fill("#mark-note", "question does not match the SQL")
    page.click("#reject")
    page.wait_for_selector("#mark-status .badge.reject")
    page.screenshot(path=str(artifacts / "viewer_rows.png"), full_page=True)

    # the review filter shows exactly that row
    page.select_option("#f-db", "")
    page.select_option("#f-review", "reject")
    _wait_count(page, 1)
    assert page.locator("#row-table tbody tr td:nth-child(3)").all_inner_texts() == [question]

    # sort by component difficulty, hardest first
    page.select_option("#f-review", "")
    order = ["easy", "medium", "hard", "extra"]
    page.select_option("#f-sort", "difficulty")
    page.check("#f-desc")
    want = sorted((r["sql_component_difficulty"] for r in run.rows), key=order.index,
                  reverse=True)[:50]
    expect(page.locator("#row-table tbody tr td:nth-child(4)").first).to_have_text(
        want[0], timeout=20_000)
    expect(page.locator("#row-table tbody tr:last-child td:nth-child(4)")).to_have_text(
        want[-1], timeout=20_000)
    assert page.locator("#row-table tbody tr td:nth-child(4)").all_inner_texts() == want
    page.select_option("#f-sort", "file")
    page.uncheck("#f-desc")

    # search
    word = question.split()[0]
    page.fill("#row-q", word)
    matching = [r for r in run.rows
                if word.lower() in " ".join(str(r.get(k, "")) for k in
                                            ("question", "evidence", "SQL", "db_id")).lower()]
    _wait_count(page, len(matching))
    shown = page.locator("#row-table tbody tr td:nth-child(3)").all_inner_texts()
    assert shown == [r["question"] for r in matching][:50]

    # rejects grouped by step and reason; the funnel and cost
    page.click("#tab-rejects")
    assert len({r["reason"] for r in run.rejects}) >= 2, "the fixture run drops rows twice over"
    page.wait_for_selector("#reject-groups details.group")
    assert f"{len(run.rejects)} rejected rows" in page.inner_text("#reject-count")
    groups = {(r["step"], r["reason"]) for r in run.rejects}
    assert page.locator("#reject-groups details.group").count() == len(groups)
    page.locator("#reject-groups details.group").first.click()
    page.screenshot(path=str(artifacts / "viewer_rejects.png"), full_page=True)
    reason = run.rejects[-1]["reason"]
    count = sum(r["reason"] == reason for r in run.rejects)
    page.select_option("#f-reason", reason)
    expect(page.locator("#reject-count")).to_have_text(f"{count} rejected rows")
    summaries = page.locator("#reject-groups details.group summary").all_inner_texts()
    assert summaries and all(f"— {reason} (" in t for t in summaries)
    page.click("#tab-overview")
    assert page.locator("#funnel tbody tr").count() == len(run.steps)
    assert "scripted" in page.inner_text("#usage")
    page.screenshot(path=str(artifacts / "viewer_overview.png"), full_page=True)
    assert page.errors == [] and page.external == []
    print(f"\nviewer screenshots: {artifacts}/viewer_*.png")

    # export honours the mark
    marks = [json.loads(x) for x in (run_dir / "review.jsonl").read_text().splitlines()]
    assert [m["status"] for m in marks] == ["reject"]
    out = tmp_path / "export.jsonl"
    assert main(["export", "--input", str(run_dir), "--format", "jsonl", "--out", str(out)]) == 0
    exported = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(exported) == total - 1
    assert question not in {r["question"] for r in exported}


def test_report_opens_offline_with_no_errors(page, built_run: Path, artifacts: Path) -> None:
    card = built_run / "report.html"
    page.goto(card.as_uri())
    page.wait_for_selector("#samples")
    assert page.locator("svg.chart").count() >= 5
    assert "sqlsynth data card" in page.inner_text("h1")
    page.screenshot(path=str(artifacts / "report.png"), full_page=True)
    assert page.errors == [] and page.external == []
    print(f"\nreport screenshot: {artifacts / 'report.png'}")
