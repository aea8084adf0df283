"""Running ahead of a verdict-only step: the next steps start before the verdict, same files."""

from __future__ import annotations

import asyncio
from typing import ClassVar

import pytest

from sqlsynth.llm.errors import LLMUnavailableError
from sqlsynth.operators.base import Operator, Reject, Row, StepContext
from sqlsynth.pipelines.runner import StreamStep, run_stream


class Judge(Operator):
    """Passes even ids unchanged, rejects odd ones; waits until ``gate`` says the next step
    already saw the row (which only happens if the runner ran ahead)."""

    verdict_only: ClassVar[bool] = True

    def __init__(self, gate: dict | None = None) -> None:
        super().__init__()
        self.gate = gate

    async def aprocess_row(self, row: Row, ctx: StepContext) -> list[Row] | Reject:
        if self.gate is not None:
            await asyncio.wait_for(self.gate.setdefault(row["id"], asyncio.Event()).wait(), 30)
        if row["id"] % 2:
            return Reject("odd", str(row["id"]))
        return [row]


class Tag(Operator):
    """Adds ``tag`` to the row's trail; ``fan`` copies, and row 4 raises."""

    def __init__(self, tag: str, gate: dict | None = None, fan: int = 1,
                 fail_on: int | None = None) -> None:
        super().__init__()
        self.tag, self.gate, self.fan, self.fail_on = tag, gate, fan, fail_on
        self.calls: list[int] = []

    async def aprocess_row(self, row: Row, ctx: StepContext) -> list[Row]:
        self.calls.append(row["id"])
        if self.gate is not None:
            self.gate.setdefault(row["id"], asyncio.Event()).set()
        await asyncio.sleep(0.001 * (7 - row["id"] % 7))
        if row["id"] == self.fail_on:
            raise RuntimeError("boom")
        return [{**row, "trail": row.get("trail", "") + self.tag, "copy": i}
                for i in range(self.fan)]


def _steps(*ops: Operator) -> list[StreamStep]:
    return [StreamStep(op, StepContext(i + 1, type(op).__name__)) for i, op in enumerate(ops)]


async def _run(ops: list[Operator], rows: list[Row]) -> tuple[list, list]:
    files: list = []
    rejects: list = []
    await run_stream(_steps(*ops), rows, on_step_done=lambda i, r, s: files.append(r),
                     on_reject=lambda i, p, r, j: rejects.append((i, p, j.reason)))
    return files, sorted(rejects)


async def test_next_steps_start_before_the_verdict() -> None:
    gate: dict = {}
    files, _ = await _run([Judge(gate), Tag("a", gate), Tag("b")], [{"id": i} for i in range(6)])
    assert [r["id"] for r in files[-1]] == [0, 2, 4]


@pytest.mark.parametrize("fan", [1, 2])
async def test_files_and_rejects_equal_a_run_without_running_ahead(fan: int) -> None:
    rows = [{"id": i} for i in range(20)]
    ahead = await _run([Judge(), Tag("a", fan=fan, fail_on=4), Tag("b"), Tag("c")], rows)

    class PlainJudge(Judge):
        verdict_only: ClassVar[bool] = False

    plain = await _run([PlainJudge(), Tag("a", fan=fan, fail_on=4), Tag("b"), Tag("c")], rows)
    assert ahead == plain
    assert ("error:RuntimeError" in {reason for _, _, reason in ahead[1]})


async def test_rejected_rows_outcomes_are_dropped_and_unavailability_still_aborts() -> None:
    class Down(Tag):
        async def aprocess_row(self, row: Row, ctx: StepContext) -> list[Row]:
            raise LLMUnavailableError("endpoint down")

    # rows the judge rejects: their run-ahead failure is never seen
    files, rejects = await _run([Judge(), Down("x")], [{"id": 1}, {"id": 3}])
    assert files == [[], []] and [r for _, _, r in rejects] == ["odd", "odd"]
    # a row that passes carries the failure with it: the run stops as without running ahead
    with pytest.raises(LLMUnavailableError):
        await _run([Judge(), Down("x")], [{"id": 2}])
