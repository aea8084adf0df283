"""``run()`` through ``FileStorage``: source planning, dedup by template and step files."""

from __future__ import annotations

import json
from itertools import count

from sqlsynth.operators.generate import SQLGenerator, Text2SQLPromptGenerator
from sqlsynth.storage import FileStorage


def read_jsonl(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_generate_then_prompt_in_one_stream(dbm, fake_chat, tmp_path):
    numbers = count()

    def writer(text: str, n: int) -> str:
        table = "animals" if "CREATE TABLE animals" in text else "customers"
        # every query of a database has the same template: only the first survives
        return f"```sql\nSELECT * FROM {table} WHERE id = {next(numbers)}\n```"

    storage = FileStorage(first_entry_file_name="", cache_path=str(tmp_path / "out"))
    generator = SQLGenerator(fake_chat(writer), dbm, generate_num=3)
    prompts = Text2SQLPromptGenerator(dbm)
    with storage.streaming():
        generator.run(
            storage=storage.step(),
            output_sql_key="SQL",
            output_db_id_key="db_id",
            output_sql_complexity_key="sql_complexity_type",
        )
        prompts.run(
            storage=storage.step(),
            input_question_key="SQL",  # any text column will do for this wiring test
            input_db_id_key="db_id",
            input_evidence_key="evidence",
            output_prompt_key="prompt",
        )
    step1 = read_jsonl(storage.step_path(1))
    assert [r["db_id"] for r in step1] == ["shop", "zoo"]
    assert step1[0]["SQL"].startswith("SELECT * FROM customers WHERE id = ")
    step2 = read_jsonl(storage.step_path(2))
    assert [r["prompt"].count("CREATE") for r in step2] == [0, 0]
    assert all(r["SQL"] in r["prompt"] for r in step2)
    rejects = read_jsonl(storage.rejects_path)
    assert [r.get("reason") for r in rejects].count("duplicate") == 4
