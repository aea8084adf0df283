"""Progress a person can plan by: an overall bar with ETA, per-step counts, or plain log lines.

On a terminal (stderr) a rich display shows one overall bar (input rows whose every descendant
has left the stream, with elapsed time and ETA) and one line per step (rows done, out,
rejected). When stderr is not a terminal (a pipe, ``nohup``, CI) a timestamped line with the
same figures is printed every few seconds instead, so a log always says how far a run is.
Both redraw on a clock, not only when a row finishes, so a slow model never looks hung.

Controls: ``-q`` (nothing but errors and results), ``-v`` (library logging), and the
environment: ``SQLSYNTH_PROGRESS`` = ``0`` (off), ``bar``, ``log`` or ``1``/unset (bar on a
terminal, log lines otherwise); ``SQLSYNTH_PROGRESS_INTERVAL`` = seconds between log lines (5).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol

PROGRESS_ENV = "SQLSYNTH_PROGRESS"
INTERVAL_ENV = "SQLSYNTH_PROGRESS_INTERVAL"
DEFAULT_INTERVAL = 5.0

_verbosity = 0


def set_verbosity(level: int) -> None:
    """-1 quiet, 0 normal, 1+ verbose; set once by the command line."""
    global _verbosity
    _verbosity = int(level)


def verbosity() -> int:
    return _verbosity


def progress_mode(stream: Any = None) -> str:
    """``off``, ``bar`` or ``log``, from ``-q``, ``SQLSYNTH_PROGRESS`` and whether ``stream``
    (stderr) is a terminal."""
    if _verbosity < 0:
        return "off"
    value = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if value in {"0", "off", "false", "no"}:
        return "off"
    if value in {"bar", "log"}:
        return value
    stream = stream if stream is not None else sys.stderr
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return "bar" if tty else "log"


def quiet_third_party() -> None:
    """Keep other libraries' progress bars and chatter (model loading) off our display.

    Set before they are imported (the CLI calls this first); transformers' own switch is
    flipped too when it is already loaded.
    """
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    transformers = sys.modules.get("transformers")
    if transformers is not None:
        try:
            transformers.utils.logging.disable_progress_bar()
            transformers.utils.logging.set_verbosity_error()
        except AttributeError:
            pass


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(max(0.0, seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else (f"{m}m{s:02d}s" if m else f"{s}s")


class StepCounts(Protocol):
    """What the runner's per-step statistics expose (``StepStats``)."""

    step: int
    name: str
    rows_in: int
    rows_out: int

    @property
    def rejects(self) -> Any: ...


class RunProgress:
    """Progress of one stream; the runner calls the hooks, rendering runs on its own clock.

    Hooks are cheap counter updates called on the event loop; the display (rich) or the log
    thread reads the counters, so a display never slows the rows down.

    The ETA comes from :meth:`work_fraction`, not from finished input rows: in a stream every
    input row is in flight at once and most finish near the end, so their count says little
    about the time left. Instead each step's rows still to come are estimated from the inputs
    and the share of rows each earlier step has let through so far.
    """

    def __init__(self, stats: Sequence[StepCounts], mode: str | None = None, *,
                 interval: float | None = None, stream: Any = None) -> None:
        self.stats = stats
        self.stream = stream if stream is not None else sys.stderr
        self.mode = mode if mode is not None else progress_mode(self.stream)
        self.interval = interval if interval is not None else _interval()
        self.total: int | None = None
        self.roots_done = 0
        self.processed = [0] * len(stats)
        self.complete = [False] * len(stats)
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._rich: Any = None
        self._tasks: list[Any] = []
        self._overall: Any = None

    # ------------------------------------------------------------------ hooks

    def start(self, total: int | None) -> None:
        """The stream starts with ``total`` input rows (None when not known yet)."""
        self.total = total
        self.started = time.monotonic()
        if self.mode == "bar":
            if _verbosity <= 0:
                quiet_third_party()  # a model loaded mid-run must not draw over the display
            self._start_rich()
        elif self.mode == "log":
            self._thread = threading.Thread(target=self._log_loop, name="sqlsynth-progress",
                                            daemon=True)
            self._thread.start()

    def admitted_all(self, total: int) -> None:
        """Every input row is in; the overall total is known from now on."""
        self.total = total
        if self._rich is not None:
            if self._tasks:
                self._rich.update(self._tasks[0], total=total)
            self._refresh_overall()

    def row_done(self, s: int) -> None:
        self.processed[s] += 1
        if self._rich is not None:
            # until the step is complete its total is the rows that reached it so far
            self._rich.update(self._tasks[s], completed=self.processed[s],
                              total=max(self.stats[s].rows_in, self.processed[s]),
                              count=f"{self.processed[s]}/{self.stats[s].rows_in}",
                              detail=self._detail(s))
            self._refresh_overall()

    def root_done(self) -> None:
        self.roots_done += 1
        if self._rich is not None:
            self._refresh_overall()

    def step_complete(self, s: int, rows_in: int) -> None:
        self.complete[s] = True
        if self._rich is not None:
            self._rich.update(self._tasks[s], total=rows_in, completed=self.processed[s],
                              count=f"{self.processed[s]}/{rows_in}", detail=self._detail(s))
            self._refresh_overall()

    advance = row_done  # the runner's names for the two per-step hooks
    set_total = step_complete

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
            self._write(self.line(final=True))
        if self._rich is not None:
            self._refresh_overall()
            self._rich.stop()
            self._rich = None

    # ------------------------------------------------------------------ figures

    def work_fraction(self) -> float | None:
        """The share of all row-steps done, with rows not yet made estimated (0..1)."""
        if self.total is None or not self.stats:
            return None
        expected = float(self.total)
        done = planned = 0.0
        for s, st in enumerate(self.stats):
            n = self.processed[s]
            rows = float(st.rows_in) if self.complete[s] else max(expected, float(st.rows_in))
            done += n
            planned += rows
            expected = rows * (st.rows_out / n if n else 1.0)
        return min(1.0, done / planned) if planned else 1.0

    def eta(self) -> float | None:
        """Seconds left, from the pace of the work done so far."""
        fraction = self.work_fraction()
        if not fraction:
            return None
        elapsed = time.monotonic() - self.started
        return elapsed * (1.0 - fraction) / fraction

    def _detail(self, s: int) -> str:
        st = self.stats[s]
        return f"out {st.rows_out}  rejected {_rejected(st)}"

    def _inputs(self) -> str:
        total = "?" if self.total is None else str(self.total)
        return f"{self.roots_done}/{total} input rows finished"

    def line(self, final: bool = False) -> str:
        """One plain status line: overall share, elapsed, ETA, then each started step."""
        elapsed = time.monotonic() - self.started
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        if final:  # a run cut short (an endpoint down, Ctrl-C) must not read as finished
            finished = self.total is not None and self.roots_done >= self.total
            share = f" ({100 * self.roots_done / self.total:.0f}%)" if self.total else ""
            head = (f"[{stamp}] sqlsynth {'done' if finished else 'stopped'}: "
                    f"{self._inputs()}{share}, elapsed {_clock(elapsed)}")
        else:
            fraction = self.work_fraction()
            work = "?" if fraction is None else f"{100 * fraction:.0f}%"
            head = (f"[{stamp}] sqlsynth progress: {work} of the work, {self._inputs()}, "
                    f"elapsed {_clock(elapsed)}, ETA {_clock(self.eta())}")
        steps = []
        for s, st in enumerate(self.stats):
            if not st.rows_in:
                continue
            steps.append(f"step{st.step} {st.name} {self.processed[s]}/{st.rows_in} done, "
                         f"out {st.rows_out}, rejected {_rejected(st)}")
        return head + ("; " + "; ".join(steps) if steps else "")

    # ------------------------------------------------------------------ rendering

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text + "\n")
            self.stream.flush()
        except (OSError, ValueError):
            pass  # a closed pipe must not end the run

    def _log_loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._write(self.line())

    def _refresh_overall(self) -> None:
        fraction = self.work_fraction()
        total = "?" if self.total is None else str(self.total)
        self._rich.update(self._overall, completed=round(1000 * (fraction or 0.0)),
                          count=f"inputs {self.roots_done}/{total}")

    def _start_rich(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn
        from rich.text import Text

        progress = self

        class OverallClock(ProgressColumn):
            """Elapsed and ETA on the overall line only: step lines stay short."""

            def render(self, task: Any) -> Text:
                if not task.fields.get("overall"):
                    return Text("")
                elapsed = _clock(task.elapsed or 0.0)
                return Text(f"{elapsed} ETA {_clock(progress.eta())}")

        self._rich = Progress(
            TextColumn("{task.description}"), BarColumn(bar_width=24),
            TextColumn("{task.fields[count]}"), TextColumn("{task.fields[detail]}"),
            OverallClock(), console=Console(file=self.stream), refresh_per_second=4,
            transient=False,
        )
        self._overall = self._rich.add_task("all rows (work done)", total=1000, detail="",
                                            count="", overall=True)
        self._refresh_overall()
        for st in self.stats:
            self._tasks.append(self._rich.add_task(f"  step{st.step} {st.name}", total=None,
                                                   count="", detail=""))
        self._rich.start()


def _rejected(st: StepCounts) -> int:
    # read from the display's thread while the loop adds reasons: copy in one C-level step
    return sum(list(st.rejects.values()))


def _interval() -> float:
    try:
        return max(0.2, float(os.environ.get(INTERVAL_ENV, DEFAULT_INTERVAL)))
    except ValueError:
        return DEFAULT_INTERVAL
