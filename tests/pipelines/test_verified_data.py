"""Both pipelines verify every kept row by default (issue 10), the checks switch off, and
the quality metadata they leave is exported or dropped on request."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sqlsynth.cli import main
from sqlsynth.config import RunConfig
from sqlsynth.export import export_rows
from sqlsynth.operators.quality import QUALITY_FIELDS
from sqlsynth.pipelines import Text2SQLGeneration_APIPipeline, Text2SQLRefine_APIPipeline
from sqlsynth.storage import read_rows
from sqlsynth.storage.final import write_final
from sqlsynth.testing import ScriptedOpenAIServer
from sqlsynth.testing.pipeline_responder import PipelineResponder, decoded_sql

OLD_BEHAVIOUR = {"question_checks": False, "roundtrip": False, "cot_policy": "replace",
                 "synthesis_reject_results": [], "dedup_by_meaning": False}


def _config(out: Path, server: ScriptedOpenAIServer, **kw) -> RunConfig:
    base = {"out": str(out), "base_url": server.base_url, "model": "scripted",
            "embedding_model": "scripted-emb", "generate_num": 4, "question_candidates": 2,
            "cot_samples": 3, "execution_generations": 4, "concurrency": 8}
    base.update(kw)
    return RunConfig(**base)


def _solver_requests(server: ScriptedOpenAIServer) -> list[dict]:
    return [r for r in server.chat_requests
            if r["body"]["messages"][-1]["content"].startswith("Task: write a")]


@pytest.fixture
def server():
    with ScriptedOpenAIServer(PipelineResponder(solve_rate=0.9)) as srv:
        yield srv


def test_generation_rows_carry_quality_metadata_and_keep_their_sql(tmp_path, server):
    pipeline = Text2SQLGeneration_APIPipeline(config=_config(tmp_path, server))
    pipeline.forward()
    final = read_rows(write_final(tmp_path, "sqlsynth", "jsonl"))
    assert final
    for row in final:
        assert row["judge_verdict"] == "yes"
        agreeing, asked = map(int, row["roundtrip_agreement"].split("/"))
        assert asked == 4 and agreeing >= 1
        agreeing, ran = map(int, row["cot_vote"].split("/"))
        assert 1 <= agreeing <= ran <= 3
        assert row["checks_passed"] == ["result_not_degenerate", "question_checks", "judge",
                                        "roundtrip", "cot_agrees_with_sql"]
        # the SQL is the one the question was written for (the responder encodes it there)
        assert decoded_sql(row["question"]) == [row["SQL"]]
    names = [s["name"] for s in pipeline.summary()]
    assert names[2:4] == ["SQLExecutionFilter", "Text2SQLQuestionGenerator"]
    assert "Text2SQLQuestionFilter" in names and "Text2SQLRoundTripFilter" in names
    # the round-trip answers serve the execution classifier too: one solver call per row
    roundtrip = next(s for s in pipeline.summary() if s["name"] == "Text2SQLRoundTripFilter")
    assert len(_solver_requests(server)) == roundtrip["rows_in"]


def test_switched_off_the_pipeline_is_the_reference_one(tmp_path, server):
    pipeline = Text2SQLGeneration_APIPipeline(config=_config(tmp_path, server, **OLD_BEHAVIOUR))
    pipeline.forward()
    names = [s["name"] for s in pipeline.summary()]
    assert names == ["SQLGenerator", "SQLExecutabilityFilter", "Text2SQLQuestionGenerator",
                     "Text2SQLCorrespondenceFilter", "Text2SQLPromptGenerator",
                     "Text2SQLCoTGenerator", "Text2SQLCoTVotingGenerator",
                     "SQLComponentClassifier", "SQLExecutionClassifier"]
    final = read_rows(write_final(tmp_path, "sqlsynth", "jsonl"))
    assert final and all("roundtrip_agreement" not in r and "cot_vote" not in r for r in final)
    # without the shared round-trip answers the classifier asks once per row
    classifier = pipeline.summary()[-1]
    assert len(_solver_requests(server)) == classifier["rows_in"]


def test_refine_drops_literal_and_alias_variants_as_duplicates(tmp_path, server):
    rows = [{"id": "a", "db_id": "retail_orders",
             "SQL": "SELECT COUNT(*) FROM customers WHERE state = 'CA'"},
            {"id": "b", "db_id": "retail_orders",
             "SQL": "SELECT COUNT(*) AS n FROM customers AS c WHERE c.state = 'NY'"}]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    cfg = _config(out, server, input=str(source), num_variations=0)
    Text2SQLRefine_APIPipeline(config=cfg).forward()
    rejects = read_rows(next(out.glob("*_rejects.jsonl")))
    assert [(r["row"]["id"], r["reason"]) for r in rejects if r["reason"] == "duplicate"] == \
        [("b", "duplicate")]
    final = read_rows(write_final(out, "sqlsynth", "jsonl"))
    assert [r["id"] for r in final] == ["a"]
    assert final[0]["checks_passed"][-1] == "cot_agrees_with_sql"


def test_export_keeps_or_drops_quality_fields(tmp_path):
    row = {"db_id": "d", "question": "Who?", "SQL": "SELECT 1", "judge_verdict": "yes",
           "cot_vote": "2/3", "roundtrip_agreement": "7/10", "checks_passed": ["judge"],
           "original_SQL": "SELECT 2"}
    export_rows([row], tmp_path / "kept.jsonl", "jsonl")
    assert json.loads((tmp_path / "kept.jsonl").read_text()) == row
    export_rows([row], tmp_path / "dropped.jsonl", "jsonl", quality_fields=False)
    dropped = json.loads((tmp_path / "dropped.jsonl").read_text())
    assert dropped == {"db_id": "d", "question": "Who?", "SQL": "SELECT 1"}
    assert not set(QUALITY_FIELDS) & set(dropped)

    rows_file = tmp_path / "rows.jsonl"
    rows_file.write_text(json.dumps(row) + "\n")
    assert main(["export", "--input", str(rows_file), "--format", "jsonl",
                 "--out", str(tmp_path / "cli.jsonl"), "--drop-quality-fields"]) == 0
    assert "cot_vote" not in json.loads((tmp_path / "cli.jsonl").read_text())


def test_scaffold_config_switches_the_new_steps():
    text = RunConfig().to_toml()
    for key in ("question_checks = true", "roundtrip = true", 'cot_policy = "agree"',
                "dedup_by_meaning = true", "synthesis_reject_results = ["):
        assert key in text
    assert RunConfig().merged({"roundtrip": False}).roundtrip is False


def test_adopt_majority_rechecks_with_the_judge_and_the_round_trip(tmp_path, server):
    pipeline = Text2SQLGeneration_APIPipeline(
        config=_config(tmp_path, server, cot_policy="adopt_majority"))
    assert pipeline.cot_voter.policy == "adopt_majority"
    assert pipeline.cot_voter.recheck == [pipeline.correspondence_filter,
                                          pipeline.roundtrip_filter]
    with pytest.raises(ValueError, match="cot_policy|policy"):
        Text2SQLGeneration_APIPipeline(config=_config(tmp_path, server, cot_policy="vote"))
