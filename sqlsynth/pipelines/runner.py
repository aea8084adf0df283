"""The streaming runner: every row flows through all steps on its own.

A row is a task that awaits step i's ``aprocess_row`` and then goes straight on to step i+1, so
one slow LLM answer holds back only its own row, not a whole step: the run takes about the total
work divided by the concurrency rather than the sum of each step's slowest request.

Determinism comes from positions, never from completion order. Input row j has position
``(j,)``; output i of a row at position p has ``p + (i,)``. Step outputs are handed over sorted
by position, and a step that deduplicates releases its outputs in position order (a reorder
buffer), so "the first row per key" is the same whatever finished first. Positions are internal:
they are never written to files.

An LLM endpoint failure is never a verdict on a row. A row whose LLM request failed after the
client's retries (whatever its operator made of the exception, see ``sqlsynth.llm.failures``)
is neither rejected nor passed on: it *waits*. A step with waiting rows is not finished (its
file is not written, the manifest does not call it done), the other rows still run to the end
so their answers are cached, and the run raises ``IncompleteRunError``; the rerun replays every
cached answer and asks only the calls still missing.
"""

from __future__ import annotations

import asyncio
import copy
import heapq
import sys
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence, Sized
from dataclasses import dataclass, field
from typing import Any

from sqlsynth.errors import IncompleteRunError
from sqlsynth.llm.errors import LLMRequestRefusedError, LLMResponseError, LLMUnavailableError
from sqlsynth.llm.failures import FailureLog, watch_failures
from sqlsynth.llm.limits import REQUEST_PRIORITY
from sqlsynth.operators.base import Operator, Reject, Row, RowOutcome, StepContext
from sqlsynth.progress import RunProgress, progress_mode

Position = tuple[int, ...]

#: rows admitted into the stream at once when the caller does not say
DEFAULT_MAX_IN_FLIGHT = 1024

#: steps after a verdict-only step that a row may run before the verdict is in
SPECULATION_DEPTH = 2


@dataclass
class StreamStep:
    """One operator with the context it runs in (its global step number, name and seed)."""

    operator: Operator
    ctx: StepContext


@dataclass
class StepStats:
    """What one step did in this run."""

    step: int
    name: str
    rows_in: int = 0
    rows_out: int = 0
    rejects: Counter[str] = field(default_factory=Counter)
    started_at: float | None = None
    seconds: float = 0.0
    #: positions of the output rows handed to ``on_step_done``, in the same order (shard merges)
    positions: list[Position] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "name": self.name,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "rejects": dict(sorted(self.rejects.items())),
            "seconds": round(self.seconds, 3),
        }


StepDone = Callable[[int, list[Row], StepStats], None]
RejectSink = Callable[[int, Position, Row, Reject], None]


def is_source(op: Operator) -> bool:
    """Whether the operator creates its rows (overrides ``plan_sources``)."""
    return type(op).plan_sources is not Operator.plan_sources


def _has_dedup(op: Operator) -> bool:
    return type(op).dedup_key is not Operator.dedup_key


def progress_enabled() -> bool:
    """Whether a progress display is shown (see ``sqlsynth.progress``)."""
    return progress_mode() != "off"


def _mode(progress: bool | None) -> str:
    if progress is None:
        return progress_mode()
    if not progress:
        return "off"
    return "bar" if sys.stderr.isatty() else "log"


class _Stream:
    def __init__(
        self,
        steps: Sequence[StreamStep],
        max_in_flight: int,
        on_step_done: StepDone | None,
        on_reject: RejectSink | None,
        progress: str,
    ) -> None:
        n = len(steps)
        self.steps = steps
        self.n = n
        self.required = [tuple(s.operator.required_input_keys()) for s in steps]
        self.dedup = [_has_dedup(s.operator) for s in steps]
        self.verdict_only = [bool(getattr(s.operator, "verdict_only", False)) for s in steps]
        #: (step, position) -> the outcome a speculative run computed ahead of the verdict
        self.ahead: dict[tuple[int, Position], asyncio.Future[Any]] = {}
        self.ahead_tasks: dict[tuple[int, Position], asyncio.Task[None]] = {}
        self.any_dedup = any(self.dedup)
        self.active: list[set[Position]] = [set() for _ in range(n)]
        self.buffer: list[list[tuple[Position, int, Row]]] = [[] for _ in range(n)]
        self.seen: list[set[Hashable]] = [set() for _ in range(n)]
        self.outputs: list[list[tuple[Position, Row]]] = [[] for _ in range(n)]
        self.complete = [False] * n
        self.waiting = [0] * n
        self.last_llm_error = ""
        self.stats = [StepStats(s.ctx.step_index, s.ctx.step_name) for s in steps]
        self.admission_done = False
        self.live: dict[int, int] = {}
        self.slots = asyncio.Semaphore(max(1, max_in_flight))
        self.tasks: set[asyncio.Task[None]] = set()
        self.finished = asyncio.Event()
        self.fatal: BaseException | None = None
        self.on_step_done = on_step_done
        self.on_reject = on_reject
        self.bars = RunProgress(self.stats, progress)

    # ------------------------------------------------------------------ driving the stream

    async def run(
        self,
        rows: Iterable[Row],
        select: Callable[[Row], bool] | None = None,
        roots: Sequence[Position] | None = None,
    ) -> list[StepStats]:
        try:
            self.bars.start(len(rows) if isinstance(rows, Sized) else None)
            admitted = 0
            for j, row in enumerate(rows):
                if select is not None and not select(row):
                    continue  # another shard's row; the others keep their positions
                await self.slots.acquire()
                if self.fatal is not None:
                    break
                self.live[j] = 1
                admitted += 1
                self._enter(0, roots[j] if roots is not None else (j,), row, j)
            self.admission_done = True
            self.bars.admitted_all(admitted)
            if self.fatal is None:
                self._settle()
            if not self.finished.is_set():
                await self.finished.wait()
            if self.fatal is not None:
                raise self.fatal
            if any(self.waiting):
                raise IncompleteRunError(
                    sum(self.waiting),
                    steps={f"step{st.ctx.step_index} {st.ctx.step_name}": count
                           for st, count in zip(self.steps, self.waiting) if count},
                    last_error=self.last_llm_error,
                )
            return self.stats
        finally:
            pending = [t for t in self.tasks if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            self.bars.close()

    def _abort(self, exc: BaseException) -> None:
        """Stop everything at once: no more admissions, every row task cancelled."""
        if self.fatal is None:
            self.fatal = exc
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current:
                task.cancel()
        self.slots.release()
        self.finished.set()

    # ------------------------------------------------------------------ row movement

    def _enter(self, s: int, pos: Position, row: Row, root: int) -> None:
        if s == self.n:
            self._unlive(root)
            return
        stats = self.stats[s]
        if stats.started_at is None:
            stats.started_at = time.perf_counter()
        stats.rows_in += 1
        self.active[s].add(pos)
        task = asyncio.create_task(self._process(s, pos, row, root))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        if self.verdict_only[s] and s + 1 < self.n and (s, pos) not in self.ahead_tasks:
            self._run_ahead(s, pos, row)

    # ------------------------------------------------------------------ running ahead

    def _run_ahead(self, s: int, pos: Position, row: Row) -> None:
        """While step ``s`` only decides whether ``row`` goes on, start the next steps on it.

        A verdict-only step passes its row unchanged, so what the following steps make of the
        row does not depend on the verdict: their outcomes are computed now and used when the
        row arrives (the files are the same; a row's chain of LLM round trips is shorter). A
        rejected row's outcomes are dropped; its calls are the price.
        """
        depth = min(SPECULATION_DEPTH, self.n - s - 1)
        keys = [(s + k, pos + (0,) * k) for k in range(1, depth + 1)]
        loop = asyncio.get_running_loop()
        for key in keys:
            self.ahead[key] = loop.create_future()
        task = asyncio.create_task(self._ahead(row, keys))
        self.ahead_tasks[(s, pos)] = task
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _ahead(self, row: Row, keys: list[tuple[int, Position]]) -> None:
        for k, key in enumerate(keys):
            step = self.steps[key[0]]
            future = self.ahead.get(key)
            if future is None or any(row.get(c) is None for c in self.required[key[0]]):
                self._forget_ahead(keys[k:])
                return
            log = watch_failures()  # this step's own log, handed over with its outcome
            REQUEST_PRIORITY.set(key[0])
            try:
                outcome = await step.operator.aprocess_row(copy.deepcopy(row), step.ctx)
            except asyncio.CancelledError:
                self._forget_ahead(keys[k:])
                raise
            except BaseException as exc:  # noqa: BLE001 - handed to the row when it arrives
                future.set_result((exc, log))
                self._forget_ahead(keys[k + 1:])
                return
            future.set_result((outcome, log))
            if log or not (isinstance(outcome, list) and len(outcome) == 1):
                self._forget_ahead(keys[k + 1:])
                return
            row = outcome[0]

    def _forget_ahead(self, keys: list[tuple[int, Position]]) -> None:
        for key in keys:
            future = self.ahead.pop(key, None)
            if future is None:
                continue
            if not future.done():
                future.cancel()
            elif not future.cancelled():
                future.exception()  # retrieved: never reported as unhandled

    def _drop_ahead(self, s: int, pos: Position) -> None:
        """The verdict rejected (or changed) the row: forget what was computed ahead of it."""
        task = self.ahead_tasks.pop((s, pos), None)
        if task is not None:
            task.cancel()
        self._forget_ahead([(s + k, pos + (0,) * k) for k in range(1, SPECULATION_DEPTH + 1)])

    async def _outcome(self, s: int, pos: Position, row: Row, failures: FailureLog) -> RowOutcome:
        """Step ``s``'s outcome for ``row``: computed ahead when it was, else now.

        An outcome computed ahead brings the LLM failures seen while computing it into the
        row's own ``failures``, so a row whose speculative call failed waits like any other.
        """
        future = self.ahead.pop((s, pos), None)
        if future is not None and not future.cancelled():
            outcome, log = await future
            failures.messages.extend(log.messages)
            if failures.unavailable is None:
                failures.unavailable = log.unavailable
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome
        step = self.steps[s]
        # a private copy: an operator that edits its input in place must not change
        # the rows already recorded for the previous step's file
        return await step.operator.aprocess_row(copy.deepcopy(row), step.ctx)

    async def _process(self, s: int, pos: Position, row: Row, root: int) -> None:
        failures = watch_failures()
        REQUEST_PRIORITY.set(s)  # this task's requests: earlier steps are served first
        try:
            missing = [k for k in self.required[s] if row.get(k) is None]
            if missing:
                self._forget_ahead([(s, pos)])
                outcome: list[Row] | Reject = Reject("missing_field", missing[0])
            else:
                outcome = await self._outcome(s, pos, row, failures)
            if not isinstance(outcome, (list, Reject)):
                outcome = Reject("error:BadOutcome", f"aprocess_row returned {type(outcome)!r}")
        except LLMUnavailableError as exc:
            self._abort(exc)
            return
        except asyncio.CancelledError:
            raise
        except LLMRequestRefusedError as exc:  # the server refused this request: a verdict
            outcome = Reject(f"error:{type(exc).__name__}", str(exc)[:1000])
        except LLMResponseError as exc:  # the endpoint's failure, not the row's: it waits
            failures.add(str(exc))
            outcome = Reject("llm_unavailable")
        except Exception as exc:  # noqa: BLE001 - one bad row must not end the run
            outcome = Reject(f"error:{type(exc).__name__}", str(exc)[:1000])
        if failures.unavailable is not None:  # caught by the operator, but the run must stop
            self._abort(failures.unavailable)
            return
        try:
            if failures:
                self._wait(s, pos, root, failures.messages[-1])
            else:
                self._finish(s, pos, row, root, outcome)
        except BaseException as exc:  # noqa: BLE001 - a failing writer or callback ends the run
            self._abort(exc)

    def _finish(
        self, s: int, pos: Position, row: Row, root: int, outcome: list[Row] | Reject
    ) -> None:
        self.active[s].discard(pos)
        self.bars.advance(s)
        if self.verdict_only[s]:
            self.ahead_tasks.pop((s, pos), None)
            if not (isinstance(outcome, list) and outcome == [row]):
                self._drop_ahead(s, pos)
        if isinstance(outcome, Reject):
            self._reject(s, pos, row, outcome)
        else:
            self.live[root] += len(outcome)
            for i, out in enumerate(outcome):
                child = pos + (i,)
                if self.dedup[s]:
                    heapq.heappush(self.buffer[s], (child, root, out))
                else:
                    self._emit(s, child, out, root)
        self._unlive(root)
        self._settle()

    def _wait(self, s: int, pos: Position, root: int, error: str) -> None:
        """The row's LLM call failed: no outcome, and step ``s`` cannot finish in this run."""
        self.active[s].discard(pos)
        self.bars.advance(s)
        self.waiting[s] += 1
        self.last_llm_error = error
        self._unlive(root)
        self._settle()

    def _emit(self, s: int, pos: Position, row: Row, root: int) -> None:
        self.outputs[s].append((pos, row))
        self.stats[s].rows_out += 1
        self._enter(s + 1, pos, row, root)

    def _release(self, s: int, pos: Position, row: Row, root: int) -> None:
        """A deduplicating step lets a row go, in position order: first of its key wins."""
        try:
            key = self.steps[s].operator.dedup_key(row)
        except Exception as exc:  # noqa: BLE001 - rejected with the exception's class
            self._reject(s, pos, row, Reject(f"error:{type(exc).__name__}", str(exc)[:1000]))
            self._unlive(root)
            return
        if key is not None and key in self.seen[s]:
            self._reject(s, pos, row, Reject("duplicate", repr(key)[:300]))
            self._unlive(root)
            return
        if key is not None:
            self.seen[s].add(key)
        self._emit(s, pos, row, root)

    def _reject(self, s: int, pos: Position, row: Row, reject: Reject) -> None:
        self.stats[s].rejects[reject.reason] += 1
        if self.on_reject is not None:
            self.on_reject(s, pos, row, reject)

    def _unlive(self, root: int) -> None:
        self.live[root] -= 1
        if self.live[root] == 0:
            del self.live[root]
            self.slots.release()
            self.bars.root_done()

    # ------------------------------------------------------------------ ordering & completion

    def _settle(self) -> None:
        if self.any_dedup:
            self._pump()
        self._check_complete()

    def _pump(self) -> None:
        """Release buffered rows that no unfinished earlier-positioned row can precede.

        Descendants of position p sort between p and p's next sibling, so the smallest position
        still pending in steps 0..s bounds every output step s can still produce.
        """
        floor: Position | None = None
        for s in range(self.n):
            if self.active[s]:
                low = min(self.active[s])
                floor = low if floor is None or low < floor else floor
            if self.dedup[s]:
                heap = self.buffer[s]
                while heap and (floor is None or heap[0][0] < floor):
                    pos, root, row = heapq.heappop(heap)
                    self._release(s, pos, row, root)
                # what stays buffered sorts at or after ``floor``: the bound holds downstream

    def _check_complete(self) -> None:
        for s in range(self.n):
            if self.complete[s]:
                continue
            upstream_done = self.admission_done if s == 0 else self.complete[s - 1]
            if not (upstream_done and not self.active[s] and not self.buffer[s]
                    and not self.waiting[s]):
                # with rows waiting on the LLM no later step finishes: the run ends when the
                # last live row is done
                if self.admission_done and not self.live and any(self.waiting):
                    self.finished.set()
                return
            self.complete[s] = True
            stats = self.stats[s]
            stats.seconds = (
                time.perf_counter() - stats.started_at if stats.started_at is not None else 0.0
            )
            self.bars.set_total(s, stats.rows_in)
            self.outputs[s].sort(key=lambda item: item[0])
            rows = [row for _, row in self.outputs[s]]
            stats.positions = [pos for pos, _ in self.outputs[s]]
            self.outputs[s] = []
            if self.on_step_done is not None:
                self.on_step_done(s, rows, stats)
        self.finished.set()


async def run_stream(
    steps: Sequence[StreamStep],
    input_rows: Iterable[Row],
    *,
    concurrency: int = DEFAULT_MAX_IN_FLIGHT,
    on_step_done: StepDone | None = None,
    on_reject: RejectSink | None = None,
    progress: bool | None = None,
    select: Callable[[Row], bool] | None = None,
    roots: Sequence[Position] | None = None,
) -> list[StepStats]:
    """Run ``steps`` as one stream over ``input_rows``; returns per-step statistics.

    ``concurrency`` bounds the input rows in flight (with all their descendants), so memory stays
    flat; LLM clients keep their own request limits. ``on_step_done(i, rows, stats)`` is called
    once per step, in step order, when step ``i`` and all steps before it are complete, with the
    step's output rows sorted by position. ``on_reject(i, position, row, reject)`` is called as
    rows are dropped. If the first step is a source (overrides ``plan_sources``) its planned rows
    replace ``input_rows``; later steps may not be sources (split the stream there).
    ``LLMUnavailableError`` aborts the run and is re-raised. A row whose LLM requests failed
    (``LLMResponseError`` raised or recorded, see ``sqlsynth.llm.failures``) waits: its step and
    every later one are not reported done, and once every other row has finished the run raises
    ``IncompleteRunError``. Any other exception from a row rejects that row with reason
    ``error:<ExceptionClass>``.

    For shards: only input rows for which ``select`` is true enter, each keeping the position
    it has in the whole input, and ``roots`` (one per input row) replaces the positions
    ``(j,)`` when the input is itself an earlier step's output of a shard. Positions of each
    step's outputs come back in ``StepStats.positions``.
    """
    if not steps:
        return []
    for step in steps[1:]:
        if is_source(step.operator):
            raise ValueError(
                f"{step.ctx.step_name} (step {step.ctx.step_index}) creates rows and must start "
                "a stream; run it in a stream of its own"
            )
    first = steps[0]
    if is_source(first.operator):
        planned = first.operator.plan_sources(first.ctx)
        if planned is not None:
            input_rows = planned
    stream = _Stream(
        steps,
        concurrency,
        on_step_done,
        on_reject,
        _mode(progress),
    )
    return await stream.run(input_rows, select, roots)
