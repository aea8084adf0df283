"""The generation pipeline end to end on every engine: SQLite, MariaDB and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlsynth.config import RunConfig
from sqlsynth.llm import OpenAIChat, OpenAIEmbeddings
from sqlsynth.pipelines import Text2SQLGeneration_APIPipeline
from sqlsynth.storage import read_rows
from sqlsynth.storage.final import write_final
from sqlsynth.testing import ScriptedOpenAIServer
from sqlsynth.testing.pipeline_responder import PipelineResponder


def test_generation_pipeline_on_each_engine(manager, engine_kind: str, tmp_path: Path) -> None:
    with ScriptedOpenAIServer(PipelineResponder()) as server:
        cfg = RunConfig(out=str(tmp_path), generate_num=4, question_candidates=2,
                        cot_samples=2, execution_generations=3, concurrency=4)
        llm = OpenAIChat("scripted", base_url=server.base_url, cache=None)
        embeddings = OpenAIEmbeddings("scripted-emb", base_url=server.base_url, cache=None)
        pipeline = Text2SQLGeneration_APIPipeline(
            config=cfg, database_manager=manager, llm_serving=llm, embedding_serving=embeddings
        )
        pipeline.forward()
    final = read_rows(write_final(tmp_path, cfg.file_name_prefix, "jsonl"))
    assert final, f"no rows survived on {engine_kind}: {pipeline.summary()}"
    assert {row["db_id"] for row in final} <= set(manager.list_databases())
    engine_name = {"sqlite": "SQLite", "mysql": "MySQL", "postgres": "PostgreSQL"}[engine_kind]
    assert all(engine_name in row["prompt"] for row in final)
