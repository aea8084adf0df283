"""The streaming runner: rows move through steps independently, output stays deterministic."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from sqlsynth.llm.errors import LLMUnavailableError
from sqlsynth.operators.base import Operator, Reject, Row, StepContext
from sqlsynth.pipelines.runner import StreamStep, run_stream


class Sleepy(Operator):
    """Sleeps ``delays[(step, id)]`` (or ``default``) and tags the row with its step."""

    def __init__(self, tag: str, delays: dict | None = None, default: float = 0.0,
                 log: list | None = None) -> None:
        super().__init__()
        self.tag = tag
        self.delays = delays or {}
        self.default = default
        self.log = log if log is not None else []
        self.active = 0
        self.max_active = 0

    async def aprocess_row(self, row: Row, ctx: StepContext) -> list[Row]:
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        self.log.append(("start", self.tag, row["id"], time.perf_counter()))
        await asyncio.sleep(self.delays.get(row["id"], self.default))
        self.log.append(("end", self.tag, row["id"], time.perf_counter()))
        self.active -= 1
        return [{**row, "trail": row.get("trail", "") + self.tag}]


class Fanout(Operator):
    """Two outputs per row, finishing in reverse order of input."""

    async def aprocess_row(self, row: Row, ctx: StepContext) -> list[Row]:
        await asyncio.sleep(0.001 * (20 - row["id"] % 20))
        return [{**row, "copy": 0}, {**row, "copy": 1}]


class DedupByGroup(Operator):
    """Keeps the first row per ``group``; later positions finish first to stress ordering."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        self.rng = random.Random(seed)

    async def aprocess_row(self, row: Row, ctx: StepContext) -> list[Row]:
        await asyncio.sleep(self.rng.random() * 0.01)
        return [dict(row)]

    def dedup_key(self, row: Row):
        return row["group"]


class RandomDelay(Operator):
    def __init__(self, seed: int) -> None:
        super().__init__()
        self.rng = random.Random(seed)

    async def aprocess_row(self, row: Row, ctx: StepContext) -> list[Row] | Reject:
        await asyncio.sleep(self.rng.random() * 0.005)
        if row["id"] % 7 == 3:
            return Reject("seven", str(row["id"]))
        return [{**row, "n": row["id"] * 2}, {**row, "n": row["id"] * 2 + 1}]


def steps_of(*ops: Operator) -> list[StreamStep]:
    return [StreamStep(op, StepContext(i + 1, op.step_name)) for i, op in enumerate(ops)]


def collect():
    files: dict[int, list[Row]] = {}
    order: list[int] = []

    def on_step_done(i: int, rows: list[Row], stats) -> None:
        files[i] = rows
        order.append(i)

    return files, order, on_step_done


async def test_row_reaches_step3_before_step1_finishes():
    log: list = []
    ops = [Sleepy("a", {0: 0.3}, 0.01, log), Sleepy("b", default=0.01, log=log),
           Sleepy("c", default=0.01, log=log)]
    files, order, done = collect()
    await run_stream(steps_of(*ops), [{"id": i} for i in range(8)], concurrency=8,
                     on_step_done=done)
    step1_last_end = max(t for kind, tag, _, t in log if kind == "end" and tag == "a")
    step3_first_start = min(t for kind, tag, _, t in log if kind == "start" and tag == "c")
    assert step3_first_start < step1_last_end
    assert order == [0, 1, 2]
    assert [r["id"] for r in files[2]] == list(range(8))
    assert all(r["trail"] == "abc" for r in files[2])


async def test_wall_time_is_total_work_over_concurrency():
    # each step has one slow row, a different one per step: a step-by-step run waits for
    # every slow row in turn (3 x 0.4 s), a stream overlaps them (about 0.4 s)
    slow = 0.4
    ops = [Sleepy(tag, {i: slow}, 0.01) for i, tag in enumerate("abc")]
    started = time.perf_counter()
    await run_stream(steps_of(*ops), [{"id": i} for i in range(12)], concurrency=12)
    elapsed = time.perf_counter() - started
    sequential = 3 * slow
    assert elapsed < 0.6 * sequential


async def test_rows_in_flight_are_bounded():
    op = Sleepy("a", default=0.005)
    await run_stream(steps_of(op), [{"id": i} for i in range(50)], concurrency=5)
    assert op.max_active <= 5


async def test_fanout_positions_order_outputs():
    files, _, done = collect()
    await run_stream(steps_of(Fanout()), [{"id": i} for i in range(30)], concurrency=30,
                     on_step_done=done)
    assert [(r["id"], r["copy"]) for r in files[0]] == [(i, c) for i in range(30) for c in (0, 1)]


@pytest.mark.parametrize("seed", [0, 1, 2])
async def test_dedup_keeps_first_in_position_order(seed):
    rows = [{"id": i, "group": i % 4} for i in range(40)]
    files, _, done = collect()
    rejects: list = []
    await run_stream(
        steps_of(RandomDelay(seed), DedupByGroup(seed), Sleepy("z")), rows, concurrency=16,
        on_step_done=done, on_reject=lambda i, pos, row, rej: rejects.append((i, row, rej)),
    )
    # step 1 rejects ids 3, 10, 17, ...; the first kept per group are ids 0, 1, 2, 7
    assert [(r["id"], r["n"]) for r in files[1]] == [(0, 0), (1, 2), (2, 4), (7, 14)]
    dup = [(row["id"], row["n"]) for i, row, rej in rejects if rej.reason == "duplicate"]
    assert (0, 1) in dup and len(dup) == 2 * (40 - 6) - 4
    assert files[2] == [{**r, "trail": "z"} for r in files[1]]


async def test_completion_order_does_not_change_output():
    results = []
    for seed in range(3):
        files, _, done = collect()
        rejects: list = []
        await run_stream(
            steps_of(RandomDelay(seed), DedupByGroup(seed + 10)),
            [{"id": i, "group": i % 9} for i in range(60)], concurrency=7,
            on_step_done=done,
            on_reject=lambda i, pos, row, rej, out=rejects: out.append((i, pos, rej.reason)),
        )
        results.append((files, sorted(rejects)))
    assert results[0] == results[1] == results[2]


class Boom(Operator):
    async def aprocess_row(self, row: Row, ctx: StepContext) -> list[Row]:
        if row["id"] == 2:
            raise ValueError("bad row")
        return [row]


async def test_row_exception_becomes_reject_and_run_goes_on():
    files, _, done = collect()
    rejects: list = []
    await run_stream(steps_of(Boom()), [{"id": i} for i in range(5)], concurrency=2,
                     on_step_done=done, on_reject=lambda i, p, r, rej: rejects.append(rej))
    assert [r["id"] for r in files[0]] == [0, 1, 3, 4]
    assert rejects == [Reject("error:ValueError", "bad row")]


class Unavailable(Operator):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def aprocess_row(self, row: Row, ctx: StepContext) -> list[Row]:
        self.calls += 1
        if row["id"] == 0:
            raise LLMUnavailableError("server at http://x unreachable")
        await asyncio.sleep(5)
        return [row]


async def test_llm_unavailable_aborts_whole_run_at_once():
    op = Unavailable()
    started = time.perf_counter()
    with pytest.raises(LLMUnavailableError, match="unreachable"):
        await run_stream(steps_of(op), [{"id": i} for i in range(100)], concurrency=4)
    assert time.perf_counter() - started < 2
    assert op.calls <= 4


class Required(Operator):
    def required_input_keys(self) -> list[str]:
        return ["SQL"]

    async def aprocess_row(self, row: Row, ctx: StepContext) -> list[Row]:
        return [row]


async def test_missing_required_field_mid_stream_is_rejected():
    rejects: list = []
    files, _, done = collect()
    await run_stream(steps_of(Required()), [{"SQL": "x"}, {"other": 1}], concurrency=2,
                     on_step_done=done, on_reject=lambda i, p, r, rej: rejects.append(rej))
    assert files[0] == [{"SQL": "x"}]
    assert rejects == [Reject("missing_field", "SQL")]


class Source(Operator):
    def plan_sources(self, ctx: StepContext) -> list[Row] | None:
        return [{"id": i} for i in range(3)]

    async def aprocess_row(self, row: Row, ctx: StepContext) -> list[Row]:
        return [{**row, "made": True}]


async def test_source_step_replaces_input_and_must_be_first():
    files, _, done = collect()
    await run_stream(steps_of(Source()), [{"ignored": 1}], on_step_done=done)
    assert files[0] == [{"id": i, "made": True} for i in range(3)]
    with pytest.raises(ValueError, match="must start"):
        await run_stream(steps_of(Sleepy("a"), Source()), [])


async def test_empty_input_completes_every_step():
    files, order, done = collect()
    stats = await run_stream(steps_of(Sleepy("a"), Sleepy("b")), [], on_step_done=done)
    assert files == {0: [], 1: []} and order == [0, 1]
    assert [s.rows_in for s in stats] == [0, 0]
