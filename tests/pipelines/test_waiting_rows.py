"""Rows whose LLM call failed wait for a rerun, whatever their operator did with the error."""

from __future__ import annotations

import pytest

from sqlsynth.errors import IncompleteRunError
from sqlsynth.llm import OpenAIChat
from sqlsynth.llm.cache import ResponseCache
from sqlsynth.llm.errors import LLMError
from sqlsynth.llm.outage import OutagePolicy
from sqlsynth.llm.retry import RetryPolicy
from sqlsynth.operators.base import Operator, Reject, Row, StepContext
from sqlsynth.pipelines.runner import StreamStep, run_stream
from sqlsynth.storage import FileStorage, read_rows

FAST_RETRY = RetryPolicy(max_retries=1, base_delay=0.01)
NO_PAUSE = OutagePolicy(failures_to_pause=10_000, max_outage=0)  # outages not ridden out


class AskSwallowing(Operator):
    """Asks the model; turns any LLM error into a reject, as many operators do."""

    def __init__(self, llm: object) -> None:
        super().__init__()
        self.llm_serving = llm

    async def aprocess_row(self, row: Row, ctx: StepContext) -> list[Row] | Reject:
        try:
            answer = (await self.llm_serving.achat([{"role": "user", "content": row["q"]}]))[0]
        except LLMError as exc:
            return Reject("llm_error", str(exc))
        return [{**row, "answer": answer}]


class AskRaising(AskSwallowing):
    async def aprocess_row(self, row: Row, ctx: StepContext) -> list[Row] | Reject:
        answer = (await self.llm_serving.achat([{"role": "user", "content": row["q"]}]))[0]
        return [{**row, "answer": answer}]


class CarryOn(AskSwallowing):
    """Ignores a failed call and passes the row on unchanged: still not a valid outcome."""

    async def aprocess_row(self, row: Row, ctx: StepContext) -> list[Row] | Reject:
        try:
            await self.llm_serving.achat([{"role": "user", "content": row["q"]}])
        except LLMError:
            pass
        return [dict(row)]


def _chat(server, cache=None) -> OpenAIChat:
    return OpenAIChat("m", base_url=server.base_url, cache=cache, retry=FAST_RETRY,
                      outage=NO_PAUSE)


@pytest.mark.parametrize("operator", [AskSwallowing, AskRaising, CarryOn])
async def test_failed_call_makes_the_row_wait_not_reject(openai_server, operator):
    chat = _chat(openai_server)
    rows = [{"q": f"q{i}"} for i in range(5)]
    await chat.achat([{"role": "user", "content": "warm up"}])
    openai_server.inject("500", count=2)  # the first row's two attempts
    rejected: list = []
    done: list = []
    step = StreamStep(operator(chat), StepContext(1, "Ask"))
    with pytest.raises(IncompleteRunError, match="1 row is waiting on the LLM endpoint") as info:
        await run_stream([step], rows, concurrency=1,
                         on_reject=lambda *a: rejected.append(a),
                         on_step_done=lambda *a: done.append(a))
    assert rejected == [] and done == []
    assert info.value.waiting == 1 and "HTTP 500" in info.value.last_error
    await chat.aclose()


def test_storage_resume_pays_only_the_waiting_calls(tmp_path, openai_server):
    entry = tmp_path / "in.jsonl"
    entry.write_text("".join(f'{{"q": "q{i}"}}\n' for i in range(6)))
    cache = ResponseCache(tmp_path / "cache.sqlite")

    def run() -> None:
        storage = FileStorage(str(entry), cache_path=str(tmp_path / "out"), file_name_prefix="r")
        chat = _chat(openai_server, cache)
        with storage.streaming():
            AskSwallowing(chat).run(storage=storage.step())
            AskRaising(chat).run(storage=storage.step())

    from sqlsynth.testing.fake_openai import echo_responder

    failing = {"on": True}

    def flaky(body):  # q3's call fails on every attempt while "on" (the server says 500)
        if failing["on"] and body["messages"][-1]["content"] == "q3":
            raise RuntimeError("overloaded")
        return echo_responder(body)

    openai_server.responder = flaky
    with pytest.raises(IncompleteRunError):
        run()
    failing["on"] = False
    assert not (tmp_path / "out" / "r_step1.jsonl").exists()
    answered = len(openai_server.answered)
    before = len(openai_server.requests)
    run()
    # only the one waiting row's call went out again (step 2 asks the same: a cache hit)
    assert len(openai_server.requests) - before == 1
    assert len(openai_server.answered) == answered + 1
    rows = read_rows(tmp_path / "out" / "r_step2.jsonl")
    assert [r["q"] for r in rows] == [f"q{i}" for i in range(6)]
    reasons = (tmp_path / "out" / "r_rejects.jsonl").read_text()
    assert "llm_error" not in reasons


async def test_refused_request_stays_a_reject(openai_server):
    def refuse(body):
        raise ValueError("prompt is longer than the context window")

    openai_server.responder = refuse  # a 400: the request's own problem, no rerun helps
    chat = _chat(openai_server)
    rejected: list = []
    step = StreamStep(AskRaising(chat), StepContext(1, "Ask"))
    await run_stream([step], [{"q": "x"}], on_reject=lambda *a: rejected.append(a))
    assert len(rejected) == 1 and "HTTP 400" in rejected[0][3].detail
    await chat.aclose()


class SwallowEverything(AskSwallowing):
    """Catches every exception, the endpoint being gone included."""

    async def aprocess_row(self, row: Row, ctx: StepContext) -> list[Row] | Reject:
        try:
            await self.llm_serving.achat([{"role": "user", "content": row["q"]}])
        except Exception as exc:  # noqa: BLE001 - the point of the test
            return Reject("whatever", str(exc))
        return [dict(row)]


async def test_unavailable_endpoint_stops_the_run_even_when_caught(openai_server_factory):
    from sqlsynth.llm.errors import LLMUnavailableError
    from tests.servers import free_port

    chat = OpenAIChat("m", base_url=f"http://127.0.0.1:{free_port()}/v1", cache=None)
    rejected: list = []
    step = StreamStep(SwallowEverything(chat), StepContext(1, "Ask"))
    with pytest.raises(LLMUnavailableError):
        await run_stream([step], [{"q": f"q{i}"} for i in range(5)],
                         on_reject=lambda *a: rejected.append(a))
    assert rejected == []
    await chat.aclose()
