"""The scripted server itself, spoken to with plain HTTP (no client-side retries)."""

from __future__ import annotations

import base64
import json
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from sqlsynth.testing import ScriptedOpenAIServer, fake_embedding

REPO = Path(__file__).resolve().parents[2]


def post(url: str, body: dict, key: str | None = None) -> tuple[int, dict, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read() or b"null")


def test_chat_choices_usage_and_recording():
    with ScriptedOpenAIServer(lambda body: ["a b", "c"]) as server:
        status, _, payload = post(server.base_url + "/chat/completions",
                                  {"model": "x", "n": 3,
                                   "messages": [{"role": "user", "content": "one two three"}]})
        assert status == 200
        assert [c["message"]["content"] for c in payload["choices"]] == ["a b", "c", "a b"]
        assert payload["usage"] == {"prompt_tokens": 3, "completion_tokens": 5,
                                    "total_tokens": 8}
        assert server.requests[0]["path"] == "/v1/chat/completions"
        assert server.requests[0]["body"]["n"] == 3 and server.requests[0]["status"] == 200


def test_ignoring_n_and_faults_in_order():
    with ScriptedOpenAIServer(honour_n=False) as server:
        url = server.base_url + "/chat/completions"
        body = {"model": "x", "n": 2, "messages": [{"role": "user", "content": "q"}]}
        assert len(post(url, body)[2]["choices"]) == 1
        server.inject("429", retry_after=2)
        server.inject("500")
        status, headers, _ = post(url, body)
        assert status == 429 and headers["Retry-After"] == "2"
        assert post(url, body)[0] == 500
        assert post(url, body)[0] == 200
        with pytest.raises(ValueError):
            server.inject("teapot")


def test_embeddings_float_and_base64():
    with ScriptedOpenAIServer(embedding_dim=8) as server:
        url = server.base_url + "/embeddings"
        _, _, floats = post(url, {"model": "e", "input": ["hello world", "bye"]})
        assert floats["data"][0]["embedding"] == pytest.approx(fake_embedding("hello world", 8))
        assert floats["usage"]["prompt_tokens"] == 3
        _, _, encoded = post(url, {"model": "e", "input": "hello world",
                                   "encoding_format": "base64"})
        raw = base64.b64decode(encoded["data"][0]["embedding"])
        assert list(struct.unpack("<8f", raw)) == pytest.approx(fake_embedding("hello world", 8))


def test_key_required_and_models_endpoint():
    with ScriptedOpenAIServer(require_key="k") as server:
        body = {"model": "x", "messages": [{"role": "user", "content": "q"}]}
        assert post(server.base_url + "/chat/completions", body)[0] == 401
        assert post(server.base_url + "/chat/completions", body, key="k")[0] == 200
        request = urllib.request.Request(server.base_url + "/models",
                                         headers={"Authorization": "Bearer k"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["data"][0]["id"] == "scripted-model"


def test_latency_overlaps_across_requests():
    from concurrent.futures import ThreadPoolExecutor

    with ScriptedOpenAIServer(latency=0.3) as server:
        body = {"model": "x", "messages": [{"role": "user", "content": "q"}]}
        start = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: post(server.base_url + "/chat/completions", body), range(8)))
        assert time.monotonic() - start < 0.3 * 8 / 2  # generous: sequential would be 2.4s
        assert server.max_in_flight >= 2


def test_command_line_entry():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "sqlsynth.testing.fake_openai", "--port",
                             str(port)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert f"127.0.0.1:{port}/v1" in proc.stdout.readline()
        status, _, payload = post(f"http://127.0.0.1:{port}/v1/chat/completions",
                                  {"model": "x", "messages": [{"role": "user", "content": "q"}]})
        assert status == 200 and payload["choices"][0]["message"]["content"] == "echo[None:0] q"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
