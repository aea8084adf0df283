"""Agreement of our hardness with gold hardness labels on Spider dev, when the data is here.

Looks for a JSON array or JSON lines file under /work/shared/data whose records carry the
gold SQL (``query``/``SQL``/``sql``) and a Spider hardness label (``hardness`` or
``difficulty`` with values easy/medium/hard/extra). Skips when there is none.
"""

import json
from pathlib import Path

import pytest

from sqlsynth.sql import SQLParseError, spider_hardness

DATA = Path("/work/shared/data")
LABELS = {"easy", "medium", "hard", "extra"}


def _labelled_records(path: Path) -> list[tuple[str, str]]:
    try:
        text = path.read_text(encoding="utf-8")
        rows = json.loads(text) if text.lstrip().startswith("[") else \
            [json.loads(line) for line in text.splitlines() if line.strip()]
    except (OSError, ValueError):
        return []
    out = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        sql = row.get("query") or row.get("SQL") or row.get("sql")
        label = row.get("hardness") or row.get("difficulty")
        if isinstance(sql, str) and isinstance(label, str) and label.lower() in LABELS:
            out.append((sql, label.lower()))
    return out


def _find_spider_dev() -> list[tuple[str, str]]:
    if not DATA.is_dir():
        return []
    for path in sorted(DATA.rglob("*")):
        if path.suffix in (".json", ".jsonl") and "spider" in str(path).lower() \
                and path.stat().st_size < 50 * 2**20:
            records = _labelled_records(path)
            if records:
                return records
    return []


def test_hardness_agrees_with_spider_labels():
    records = _find_spider_dev()
    if not records:
        pytest.skip(f"no Spider data with hardness labels under {DATA}")
    agree = parsed = 0
    for sql, label in records:
        try:
            ours = spider_hardness(sql)
        except SQLParseError:
            continue
        parsed += 1
        agree += ours == label
    rate = agree / max(parsed, 1)
    print(f"hardness agreement {agree}/{parsed} = {rate:.3f} ({len(records)} records)")
    assert parsed >= 0.95 * len(records)
    assert rate >= 0.9
