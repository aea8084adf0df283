"""Progress: the mode chosen, log lines with totals and ETA, the rich display, -q and -v."""

from __future__ import annotations

import asyncio
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sqlsynth.operators.base import Operator, Reject, Row, StepContext
from sqlsynth.pipelines.runner import StreamStep, run_stream
from sqlsynth.progress import RunProgress, progress_mode, quiet_third_party, set_verbosity
from sqlsynth.testing import ScriptedOpenAIServer
from sqlsynth.testing.pipeline_responder import PipelineResponder

REPO = Path(__file__).resolve().parents[1]


class _Slow(Operator):
    """Waits a little per row and drops every third one."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def aprocess_row(self, row: Row, ctx: StepContext) -> list[Row] | Reject:
        await asyncio.sleep(self.delay)
        if row["id"] % 3 == 2:
            return Reject("unlucky", str(row["id"]))
        return [dict(row)]


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _normal_verbosity(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("SQLSYNTH_PROGRESS", raising=False)
    set_verbosity(0)
    yield
    set_verbosity(0)


def test_mode_follows_terminal_env_and_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    assert progress_mode(io.StringIO()) == "log"
    assert progress_mode(_Tty()) == "bar"
    monkeypatch.setenv("SQLSYNTH_PROGRESS", "0")
    assert progress_mode(_Tty()) == "off"
    monkeypatch.setenv("SQLSYNTH_PROGRESS", "log")
    assert progress_mode(_Tty()) == "log"
    monkeypatch.delenv("SQLSYNTH_PROGRESS")
    set_verbosity(-1)
    assert progress_mode(_Tty()) == "off"


def _steps(delay: float) -> list[StreamStep]:
    return [StreamStep(_Slow(delay), StepContext(step_index=1, step_name="First", seed=0)),
            StreamStep(_Slow(0.0), StepContext(step_index=2, step_name="Second", seed=0))]


def test_log_lines_say_totals_eta_and_step_counts() -> None:
    stream = io.StringIO()
    steps = _steps(0.05)
    captured: list[RunProgress] = []

    from sqlsynth.pipelines import runner

    real = runner.RunProgress

    def make(stats, mode):
        progress = real(stats, "log", interval=0.2, stream=stream)
        captured.append(progress)
        return progress

    runner.RunProgress = make
    try:
        asyncio.run(run_stream(steps, [{"id": i} for i in range(30)], concurrency=2))
    finally:
        runner.RunProgress = real
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 3, "a line every interval while the run goes on, and a last one"
    stamp = r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] sqlsynth "
    assert all(re.match(stamp, line) for line in lines)
    assert re.search(r"progress: \d+% of the work, \d+/30 input rows finished, elapsed \d+s, "
                     r"ETA", lines[1])
    assert "step1 First" in lines[1]
    last = lines[-1]
    assert "done: 30/30 input rows finished (100%)" in last
    assert "step1 First 30/30 done, out 20, rejected 10" in last
    assert "step2 Second 20/20 done, out 20, rejected 0" in last
    assert captured[0].eta() == 0


def test_eta_from_the_work_done_with_rows_to_come_estimated() -> None:
    from sqlsynth.pipelines.runner import StepStats

    stats = [StepStats(1, "Filter"), StepStats(2, "Fanout")]
    progress = RunProgress(stats, "off")
    progress.start(10)
    assert progress.work_fraction() == 0 and progress.eta() is None
    progress.started -= 4.0
    # step 1 has done 4 of 10 rows and kept half; step 2 doubled the 2 it got (2 of 2 done)
    stats[0].rows_in, stats[0].rows_out, progress.processed[0] = 10, 2, 4
    stats[1].rows_in, stats[1].rows_out, progress.processed[1] = 2, 4, 2
    # rows expected into step 2: 10 x 2/4 = 5, of which 2 are done: (4 + 2) / (10 + 5)
    assert progress.work_fraction() == pytest.approx(6 / 15)
    assert progress.eta() == pytest.approx(4.0 * (9 / 15) / (6 / 15), rel=0.05)
    progress.complete[0] = True
    stats[0].rows_in = 10
    assert progress.work_fraction() == pytest.approx(6 / 15)


def test_rich_display_shows_overall_and_steps() -> None:
    out = _Tty()
    from sqlsynth.pipelines.runner import StepStats

    stats = [StepStats(1, "First"), StepStats(2, "Second")]
    progress = RunProgress(stats, "bar", stream=out)
    progress.start(4)
    stats[0].rows_in = 4
    for _ in range(4):
        progress.row_done(0)
    progress.step_complete(0, 4)
    progress.root_done()
    progress.close()
    text = out.getvalue()
    assert "all rows (work done)" in text and "step1 First" in text and "step2 Second" in text
    assert "inputs 1/4" in text and "4/4" in text and "ETA" in text


def test_quiet_third_party_sets_their_switches(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HF_HUB_DISABLE_PROGRESS_BARS", "TRANSFORMERS_VERBOSITY"):
        monkeypatch.delenv(name, raising=False)
    quiet_third_party()
    assert os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1"
    assert os.environ["TRANSFORMERS_VERBOSITY"] == "error"


def _generate(tmp_path, server, *flags: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SQLSYNTH_PROGRESS_INTERVAL": "0.3", "PYTHONPATH": str(REPO)}
    env.pop("SQLSYNTH_PROGRESS", None)
    return subprocess.run(
        [sys.executable, "-m", "sqlsynth.cli", *flags, "generate", "--base-url",
         server.base_url, "--model", "scripted", "--embedding-model", "scripted-emb",
         "--num", "2", "--question-candidates", "2", "--cot-samples", "2",
         "--execution-generations", "2", "--concurrency", "2", "--out", str(tmp_path / "run")],
        capture_output=True, text=True, env=env, timeout=300, check=False)


def test_piped_run_logs_progress_and_quiet_run_does_not(tmp_path) -> None:
    with ScriptedOpenAIServer(PipelineResponder(mean_latency=0.05)) as server:
        piped = _generate(tmp_path / "a", server)
        quiet = _generate(tmp_path / "b", server, "-q")
    assert piped.returncode == 0, piped.stderr
    assert re.search(r"sqlsynth progress: \d+% of the work, \d+/6 input rows finished, .*ETA",
                     piped.stderr)
    assert "sqlsynth done: 6/6 input rows finished" in piped.stderr
    assert "data card:" in piped.stderr and "sqlsynth view" in piped.stderr
    # the summary table is not squeezed to 80 columns in a log
    assert "│ Text2SQLCorrespondenceFilter " in piped.stderr
    assert quiet.returncode == 0, quiet.stderr
    assert "sqlsynth progress" not in quiet.stderr and "run summary" not in quiet.stderr
    assert "final rows:" in quiet.stderr


_LOAD_EMBEDDINGS = """
import sys
if sys.argv[1] == "quiet":
    from sqlsynth.progress import quiet_third_party
    quiet_third_party()
from sqlsynth.llm import LocalEmbeddings
print(len(LocalEmbeddings(cache=None).embed(["hello"])[0]))
"""


@pytest.mark.slow
def test_model_loading_bars_are_kept_off_the_display() -> None:
    """transformers draws a 'Loading weights' bar when the local embedding model loads."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for name in ("HF_HUB_DISABLE_PROGRESS_BARS", "TRANSFORMERS_VERBOSITY"):
        env.pop(name, None)
    runs = {mode: subprocess.run([sys.executable, "-c", _LOAD_EMBEDDINGS, mode], env=env,
                                 capture_output=True, text=True, timeout=300, check=True)
            for mode in ("loud", "quiet")}
    assert "Loading weights" in runs["loud"].stderr, "the control shows the bar"
    assert "Loading weights" not in runs["quiet"].stderr
    assert runs["quiet"].stdout.strip() == "384"


def test_quiet_and_verbose_either_side_of_the_command() -> None:
    from sqlsynth.cli import build_parser

    parser = build_parser()
    for argv, quiet, verbose in ((["-q", "report", "r"], True, 0),
                                 (["report", "r", "-q"], True, 0),
                                 (["report", "r"], False, 0),
                                 (["view", "r", "-vv"], False, 2)):
        args = parser.parse_args(argv)
        assert (args.quiet, args.verbose) == (quiet, verbose), argv


def test_a_run_cut_short_says_stopped_not_done() -> None:
    stream = io.StringIO()
    progress = RunProgress([], "log", interval=60, stream=stream)
    progress.start(10)
    progress.root_done()
    progress.close()
    assert "sqlsynth stopped: 1/10 input rows finished (10%)" in stream.getvalue()
