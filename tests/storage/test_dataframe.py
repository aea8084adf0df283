"""An operator written against the reference's storage contract runs unchanged in a pipeline.

The reference documents custom operators as classes whose ``run(storage, input_*_key=...,
output_*_key=...)`` calls ``storage.read("dataframe")`` and ``storage.write(df)``. Such a class
is a step of a sqlsynth ``Pipeline`` between streaming operators, locally and resumed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import pandas  # noqa: F401 - the contract needs it (extra `pandas`, installed by make test)
import pytest

from sqlsynth.executors.local import LocalExecutor
from sqlsynth.executors.shard import ShardExecutor, ShardSpec
from sqlsynth.operators.base import Operator, Reject, Row, StepContext
from sqlsynth.pipelines.pipeline import Pipeline, Step
from sqlsynth.storage import FileStorage, read_rows


class Upper(Operator):
    """A streaming sqlsynth operator: upper-cases ``text``; rejects rows containing 'drop'."""

    default_keys: ClassVar[dict[str, str]] = {"input_text_key": "text",
                                              "output_text_key": "text"}

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def aprocess_row(self, row: Row, ctx: StepContext) -> list[Row] | Reject:
        self.calls += 1
        text = row[self.keys["input_text_key"]]
        if "drop" in text:
            return Reject("dropped_word", text)
        return [{**row, self.keys["output_text_key"]: text.upper()}]


class LengthScorer:
    """As the reference's docs write an operator: DataFrame in, DataFrame out."""

    def __init__(self) -> None:
        self.runs = 0

    def run(self, storage, input_key: str = "text", output_key: str = "length"):
        self.runs += 1
        dataframe = storage.read("dataframe")
        dataframe[output_key] = dataframe[input_key].str.len()
        dataframe = dataframe[dataframe[output_key] > 2]
        storage.write(dataframe)


def _input(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    rows = [{"id": i, "text": t} for i, t in enumerate(["ab", "hello", "drop me", "world!"])]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _pipeline(scorer: LengthScorer, first: Upper, last: Upper) -> Pipeline:
    return Pipeline([
        Step(first),
        Step(scorer, {"output_key": "n"}),
        Step(last, {"input_text_key": "text", "output_text_key": "shout"}),
    ])


@pytest.mark.parametrize("streaming", [True, False])
def test_reference_style_operator_between_streaming_steps(tmp_path: Path, streaming: bool) -> None:
    storage = FileStorage(str(_input(tmp_path)), str(tmp_path / "out"), "run", "jsonl")
    scorer, first, last = LengthScorer(), Upper(), Upper()
    pipeline = _pipeline(scorer, first, last).compile(["id", "text"])
    LocalExecutor(streaming=streaming).run(pipeline, storage)

    step2 = read_rows(storage.step_path(2))
    assert step2 == [{"id": 1, "text": "HELLO", "n": 5}, {"id": 3, "text": "WORLD!", "n": 6}]
    final = read_rows(storage.step_path(3))
    assert [r["shout"] for r in final] == ["HELLO", "WORLD!"]
    assert isinstance(final[0]["n"], int), "numpy values are written as plain JSON numbers"
    rejects = read_rows(storage.rejects_path)
    assert [(r["step"], r["reason"]) for r in rejects] == [(1, "dropped_word")]
    assert [s["rows_out"] for s in storage.summary()] == [3, 2, 2]


def test_rerun_resumes_after_the_reference_style_step(tmp_path: Path) -> None:
    source = _input(tmp_path)
    out = str(tmp_path / "out")
    LocalExecutor().run(_pipeline(LengthScorer(), Upper(), Upper()).compile(),
                        FileStorage(str(source), out, "run", "jsonl"))
    before = Path(out, "run_step3.jsonl").read_bytes()

    scorer, first, last = LengthScorer(), Upper(), Upper()
    storage = FileStorage(str(source), out, "run", "jsonl")
    LocalExecutor().run(_pipeline(scorer, first, last).compile(), storage)
    assert first.calls == 0, "step 1 is reused from the manifest"
    assert scorer.runs == 1, "a whole-table step reruns (its code is the user's)"
    assert last.calls == 0, "its output did not change, so step 3 is reused"
    assert Path(out, "run_step3.jsonl").read_bytes() == before


def test_read_dict_and_unknown_output_type(tmp_path: Path) -> None:
    storage = FileStorage(str(_input(tmp_path)), str(tmp_path / "out"))
    step = storage.step()
    assert step.read("dict")[0] == {"id": 0, "text": "ab"}
    assert list(step.read("dataframe").columns) == ["id", "text"]
    with pytest.raises(ValueError, match="output_type"):
        step.read("arrow")


def test_a_whole_table_step_refuses_to_run_in_a_shard(tmp_path: Path) -> None:
    storage = FileStorage(str(_input(tmp_path)), str(tmp_path / "out"), "run", "jsonl")
    with pytest.raises(ValueError, match="cannot run in a shard"):
        ShardExecutor(ShardSpec(0, 1)).run(Pipeline([Step(LengthScorer())]).compile(), storage)
