"""Edge cases of the pipeline path found by experiment: each test pins one fixed bug."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from sqlsynth.config import RunConfig
from sqlsynth.examples import example_db_root
from sqlsynth.operators.base import Operator, Reject, Row, RowOutcome, StepContext
from sqlsynth.pipelines import Text2SQLGeneration_APIPipeline
from sqlsynth.storage import FileStorage, read_rows
from sqlsynth.testing import ScriptedOpenAIServer
from sqlsynth.testing.pipeline_responder import PipelineResponder

SIZES = {"question_candidates": 2, "cot_samples": 2, "execution_generations": 2,
         "concurrency": 4, "generate_num": 1}


@pytest.fixture
def server():
    with ScriptedOpenAIServer(PipelineResponder()) as srv:
        yield srv


def _config(out: Path, server: ScriptedOpenAIServer, **kw) -> RunConfig:
    return RunConfig(out=str(out), base_url=server.base_url, model="scripted",
                     embedding_model="scripted-emb", **{**SIZES, **kw})


def _db_ids_of_last_step(out: Path) -> set[str]:
    last = max(out.glob("sqlsynth_step*.jsonl"), key=lambda p: int(p.stem.rsplit("step", 1)[1]))
    return {row["db_id"] for row in read_rows(last)}


def test_rerun_with_other_db_ids_redoes_the_steps(tmp_path: Path, server) -> None:
    Text2SQLGeneration_APIPipeline(config=_config(tmp_path, server,
                                                  db_ids=["retail_orders"])).forward()
    again = Text2SQLGeneration_APIPipeline(config=_config(tmp_path, server,
                                                          db_ids=["hospital_admissions"]))
    again.forward()
    assert not any(step["resumed"] for step in again.summary())
    assert _db_ids_of_last_step(tmp_path) <= {"hospital_admissions"}


def test_rerun_against_another_database_folder_redoes_the_steps(tmp_path: Path, server) -> None:
    other = tmp_path / "other_dbs"
    other.mkdir()
    shutil.copy(example_db_root() / "retail_orders" / "retail_orders.sqlite",
                other / "shop.sqlite")
    out = tmp_path / "run"
    Text2SQLGeneration_APIPipeline(config=_config(out, server,
                                                  db_ids=["retail_orders"])).forward()
    again = Text2SQLGeneration_APIPipeline(config=_config(out, server, db=str(other)))
    again.forward()
    assert not again.summary()[0]["resumed"]
    assert _db_ids_of_last_step(out) <= {"shop"}


def test_generation_over_an_empty_database_folder_is_an_error(tmp_path: Path, server) -> None:
    empty = tmp_path / "no_dbs"
    empty.mkdir()
    pipeline = Text2SQLGeneration_APIPipeline(config=_config(tmp_path / "run", server,
                                                             db=str(empty)))
    with pytest.raises(ValueError, match="no databases"):
        pipeline.forward()


class _RejectOddSlowly(Operator):
    """Rejects odd values; later rows finish first, so rejects arrive in reverse order."""

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        await asyncio.sleep(0.01 * (10 - row["v"]))
        return Reject("odd", str(row["v"])) if row["v"] % 2 else [row]


class _SnapshotRejectsWhenStepOneIsDone(Operator):
    """Records the rejects file as a kill right after step 1 finished would leave it."""

    def __init__(self, storage: FileStorage) -> None:
        super().__init__()
        self._storage = storage
        self.snapshot: list[str] | None = None

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        while self.snapshot is None:
            manifest = json.loads(self._storage.manifest_path.read_text())
            if any(s["step"] == 1 and s["done"] for s in manifest["steps"]):
                self.snapshot = self._storage.rejects_path.read_text().splitlines()
            else:
                await asyncio.sleep(0.005)
        return [row]


def test_rejects_of_a_finished_step_are_in_final_order_before_the_run_ends(
    tmp_path: Path,
) -> None:
    """A kill -9 after step 1 keeps step 1's reject lines; they must already be in position
    order, or the resumed run's rejects file differs from an uninterrupted run's."""
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"v": v}) + "\n" for v in range(10)))
    storage = FileStorage(str(source), cache_path=str(tmp_path / "run"), file_name_prefix="t")
    snapshotter = _SnapshotRejectsWhenStepOneIsDone(storage)
    with storage.streaming():
        _RejectOddSlowly().run(storage=storage.step())
        snapshotter.run(storage=storage.step())
    assert snapshotter.snapshot is not None
    details = [json.loads(line)["detail"] for line in snapshotter.snapshot]
    assert details == ["1", "3", "5", "7", "9"]
