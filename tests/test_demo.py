"""`make demo`'s command end to end, as a new user runs it: no key, the bundled databases."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _make_demo_command() -> list[str]:
    """The Makefile's demo line that runs sqlsynth, with this interpreter."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if "sqlsynth.cli demo" in line)
    assert re.search(r"\$\(PY\) -m sqlsynth\.cli demo --out \$\(DEMO_OUT\)\s*$", line), line
    return [sys.executable, "-m", "sqlsynth.cli", "demo", "--out"]


@pytest.mark.slow
def test_make_demo_makes_at_least_30_verified_rows_at_four_levels(tmp_path: Path) -> None:
    out = tmp_path / "demo_out"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SQLSYNTH_PROGRESS": "0"}
    started = time.monotonic()
    done = subprocess.run([*_make_demo_command(), str(out)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    print(f"demo run time: {time.monotonic() - started:.1f} s")
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [json.loads(line) for line in (out / "final.jsonl").read_text().splitlines()]
    assert len(rows) >= 30
    assert {r["sql_component_difficulty"] for r in rows} == {"easy", "medium", "hard", "extra"}
    assert {r["db_id"] for r in rows} == {"retail_orders", "hospital_admissions",
                                          "regional_economy"}
    assert all(r["question"] and r["cot_reasoning"] and r["SQL"] for r in rows)
    card = (out / "report.html").read_text()
    assert "no final rows" not in card and rows[0]["db_id"] in card
    [export] = (out / "llamafactory").glob("*alpaca*.json")
    assert len(json.loads(export.read_text())) == len(rows)
    assert "sqlsynth view" in done.stdout + done.stderr
