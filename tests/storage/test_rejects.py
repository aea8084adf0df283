"""The rejects file: lines appear as rows are dropped, end in (step, position) order, and a
restart at step k removes the lines of steps >= k, so a resumed run never doubles them."""

from __future__ import annotations

import json
from pathlib import Path

from sqlsynth.storage.rejects import RejectsLog


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def add(log: RejectsLog, step: int, position: tuple[int, ...], reason: str = "bad",
        **kw: object) -> None:
    log.add(step, f"Step{step}", position, reason, "detail", {"pos": list(position)}, **kw)


def test_lines_are_written_at_once_and_finish_orders_them(tmp_path: Path) -> None:
    log = RejectsLog(tmp_path / "rejects.jsonl")
    log.start(1)
    add(log, 2, (5,))
    add(log, 1, (3, 1))
    add(log, 1, (0,))
    # flushed as they come: a run killed now still shows why rows left
    assert [r["row"]["pos"] for r in lines(log.path)] == [[5], [3, 1], [0]]
    log.finish()
    got = lines(log.path)
    assert [(r["step"], r["row"]["pos"]) for r in got] == [(1, [0]), (1, [3, 1]), (2, [5])]
    assert got[0] == {"step": 1, "step_name": "Step1", "reason": "bad", "detail": "detail",
                      "row": {"pos": [0]}}


def test_step_done_orders_that_step_while_others_keep_coming(tmp_path: Path) -> None:
    log = RejectsLog(tmp_path / "rejects.jsonl")
    log.start(1)
    add(log, 1, (2,))
    add(log, 2, (9,))
    add(log, 1, (1,))
    log.step_done(1)
    add(log, 2, (4,))
    assert [(r["step"], r["row"]["pos"]) for r in lines(log.path)] == [
        (1, [1]), (1, [2]), (2, [9]), (2, [4])]
    log.finish()
    assert [(r["step"], r["row"]["pos"]) for r in lines(log.path)] == [
        (1, [1]), (1, [2]), (2, [4]), (2, [9])]


def test_restart_at_step_k_drops_lines_of_k_and_later(tmp_path: Path) -> None:
    path = tmp_path / "rejects.jsonl"
    first = RejectsLog(path)
    first.start(1)
    for step in (1, 2, 3):
        add(first, step, (0,))
    first.finish()
    resumed = RejectsLog(path)
    resumed.start(2)
    assert [r["step"] for r in lines(path)] == [1]
    add(resumed, 2, (0,), reason="again")
    resumed.finish()
    assert [(r["step"], r["reason"]) for r in lines(path)] == [(1, "bad"), (2, "again")]


def test_a_line_cut_off_by_a_kill_is_dropped_on_restart(tmp_path: Path) -> None:
    path = tmp_path / "rejects.jsonl"
    path.write_text('{"step": 1, "reason": "ok", "row": {}}\n{"step": 1, "rea', encoding="utf-8")
    log = RejectsLog(path)
    log.start(5)
    log.finish()
    assert lines(path) == [{"step": 1, "reason": "ok", "row": {}}]


def test_shard_lines_carry_their_position_and_values_are_strict_json(tmp_path: Path) -> None:
    log = RejectsLog(tmp_path / "rejects.jsonl")
    log.start(1)
    log.add(1, "Step1", (7, 2), "empty", "", {"x": float("nan")}, with_position=True)
    log.finish()
    text = log.path.read_text(encoding="utf-8")
    assert "NaN" not in text
    assert lines(log.path) == [{"step": 1, "step_name": "Step1", "reason": "empty",
                                "detail": "", "row": {"x": None}, "position": [7, 2]}]


def test_finish_without_start_writes_an_empty_file(tmp_path: Path) -> None:
    log = RejectsLog(tmp_path / "rejects.jsonl")
    log.finish()
    assert log.path.read_text(encoding="utf-8") == ""
