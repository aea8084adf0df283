"""Where SQL, questions and reasoning come from: ``auto`` resolved, bad values named, and the
no-key generation pipeline (grammar SQL, canonical texts) end to end without any model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sqlsynth.config import RunConfig, parse_hardness_mix
from sqlsynth.pipelines.sources import NO_SOLVER, resolve_sources


def _missing(cfg):
    return "the local chat model needs llama_cpp (extra 'llamacpp')"


def test_auto_is_model_free_without_an_endpoint_and_the_llm_with_one():
    plain = resolve_sources(RunConfig(), chat_missing=_missing)
    assert (plain.sql, plain.question, plain.cot, plain.paraphrase) == \
        ("grammar", "canonical", "canonical", False)
    assert not plain.needs_chat and not plain.needs_embeddings
    assert not plain.measures_execution_difficulty and plain.note
    keyed = resolve_sources(RunConfig(base_url="http://127.0.0.1:9/v1"))
    assert (keyed.sql, keyed.question, keyed.cot) == ("llm", "llm", "llm")
    assert keyed.measures_execution_difficulty
    # a model handed to the pipeline counts as an endpoint (the reference's Python API)
    assert resolve_sources(RunConfig(), model_given=True).sql == "llm"
    # refine's rows are the user's SQL: auto keeps the LLM path there
    assert resolve_sources(RunConfig(), refine=True).question == "llm"


def test_paraphrase_on_needs_a_model_that_can_run():
    with pytest.raises(ValueError, match="paraphrase.*llamacpp"):
        resolve_sources(RunConfig(paraphrase="on"), chat_missing=_missing)
    assert resolve_sources(RunConfig(paraphrase="on"), chat_missing=lambda c: None).paraphrase
    keyed = RunConfig(base_url="http://h/v1", question_source="canonical")
    assert resolve_sources(keyed).paraphrase  # auto with an endpoint
    assert not resolve_sources(keyed.merged({"paraphrase": "off"})).paraphrase


@pytest.mark.parametrize(("values", "named"), [
    ({"sql_source": "sampled"}, "sql_source"),
    ({"question_source": "llm2"}, "question_source"),
    ({"cot_source": ""}, "cot_source"),
    ({"paraphrase": "yes"}, "paraphrase"),
    ({"hardness_mix": ["easy"]}, "hardness_mix"),
    ({"hardness_mix": ["tricky=1"]}, "hardness_mix"),
    ({"hardness_mix": ["easy=-1"]}, "hardness_mix"),
    ({"hardness_mix": ["easy=0"]}, "hardness_mix"),
])
def test_invalid_values_are_errors_naming_the_key(values, named):
    with pytest.raises(ValueError, match=named):
        RunConfig().merged(values)


def test_hardness_mix_reads_level_weight_pairs():
    assert parse_hardness_mix([]) is None
    assert parse_hardness_mix(["easy=1", "extra=2.5"]) == {"easy": 1.0, "extra": 2.5}
    assert parse_hardness_mix({"hard": 1}) == {"hard": 1.0}


def test_the_no_key_pipeline_builds_no_model_and_makes_verified_rows(tmp_path: Path):
    from sqlsynth.pipelines import Text2SQLGeneration_APIPipeline

    cfg = RunConfig(out=str(tmp_path / "run"), generate_num=4)
    pipeline = Text2SQLGeneration_APIPipeline(config=cfg)
    assert pipeline.llm_serving is None and pipeline.embedding_serving is None
    pipeline.forward()
    from sqlsynth.storage.final import write_final

    final = write_final(Path(cfg.out), cfg.file_name_prefix, cfg.cache_type)
    rows = [json.loads(line) for line in final.read_text().splitlines()]
    assert len(rows) >= 9  # 3 databases x 4 slots, a few may be dropped
    for row in rows:
        assert row["question_source"] == "canonical" and row["cot_source"] == "canonical"
        assert row["verification_level"] == "canonical"
        assert row["sql_execution_difficulty"] is None
        assert row["sql_execution_difficulty_reason"] == NO_SOLVER
        assert row["sql_component_difficulty"] in ("easy", "medium", "hard", "extra")
        assert "```sql" in row["cot_reasoning"] or "SELECT" in row["cot_reasoning"]
    steps = sorted(Path(cfg.out).glob("sqlsynth_step*.jsonl"))
    stamps = [p.stat().st_mtime_ns for p in steps]
    Text2SQLGeneration_APIPipeline(config=cfg).forward()  # resume: every step reused
    assert [p.stat().st_mtime_ns for p in steps] == stamps
