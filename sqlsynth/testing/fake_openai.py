"""A scripted OpenAI-compatible HTTP server for tests and benchmarks.

It speaks just enough of the API (chat completions, embeddings, model list) for the official
client, answers from a Python ``responder``, and can be told to misbehave so retry and failure
paths are exercised over real HTTP: ``inject`` queues faults for the next requests,
``fault_rate`` gives every request a seeded chance of a random fault, ``outage`` makes every
request fail for a while (503s or dropped connections), ``black_hole`` accepts connections and
never answers, and ``drip_seconds`` sends bodies a byte at a time. Fault kinds:

- ``429`` (with Retry-After when given), ``500``, ``503``, ``401``: that HTTP status;
- ``reset``: the connection is closed without a response;
- ``malformed``: a truncated JSON body; ``non_json``: an HTML error page with status 200;
- ``wrong_content_type``: a correct body labelled ``text/html``;
- ``empty_choices``: ``"choices": []``; ``null_content`` / ``empty_content``: a choice whose
  message content is null / the empty string;
- ``hang``: no answer for ``hang_seconds``; ``drip``: the answer, a byte every few ms, spread
  over ``drip_seconds``. Each request is handled in its own thread and
``latency`` sleeps in that thread, so concurrent requests overlap as on a real server.

Run by hand: ``python -m sqlsynth.testing.fake_openai --port 8000 --latency 0.2``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import math
import random
import re
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

from typing_extensions import Self

Responder = Callable[[dict[str, Any]], "str | list[str]"]
#: faults a flaky endpoint or proxy produces, each retried by a sound client
TRANSPORT_FAULTS = ("429", "500", "503", "reset", "malformed", "empty_choices", "non_json",
                    "wrong_content_type", "null_content", "empty_content")
FAULTS = (*TRANSPORT_FAULTS, "hang", "drip", "401")


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def count_tokens(text: str) -> int:
    """The fake tokenizer: whitespace-separated words."""
    return len(text.split())


def echo_responder(body: dict[str, Any]) -> list[str]:
    """Default answers: the last user message, tagged with seed and choice so they differ."""
    last = next((_text_of(m.get("content")) for m in reversed(body.get("messages", []))
                 if m.get("role") == "user"), "")
    n = int(body.get("n") or 1)
    return [f"echo[{body.get('seed')}:{i}] {last}" for i in range(n)]


def fake_embedding(text: str, dim: int = 32) -> list[float]:
    """Deterministic unit vector: hashed bag of words plus a whole-text component.

    Texts sharing words get similar vectors, which is enough for selection tests.
    """
    vector = [0.0] * dim

    def add(token: str, weight: float) -> None:
        digest = hashlib.sha256(token.encode("utf-8")).digest()
        slot = int.from_bytes(digest[:4], "big") % dim
        vector[slot] += weight if digest[4] & 1 else -weight

    for word in re.findall(r"\w+", text.lower()):
        add("w:" + word, 1.0)
    add("t:" + text, 0.25)
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def _echo_of(authorization: str, path: str) -> str:
    """What a careless proxy quotes back: the header, the bare key in prose, URL-encoded,
    JSON-escaped and base64 (``echo_credentials``)."""
    key = authorization.split(None, 1)[-1] if authorization else ""
    return (f" [request {path} with Authorization: {authorization}; the key {key} has no "
            f"access; sent as {quote(authorization, safe='')}; raw {json.dumps(key)}; "
            f"b64 {base64.b64encode(key.encode()).decode()}]")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512

    def __init__(self, address: tuple[str, int], scripted: ScriptedOpenAIServer) -> None:
        self.scripted = scripted
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body are written separately; without NODELAY, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every keep-alive response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.scripted.verbose:
            super().log_message(format, *args)

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None,
              raw: bytes | None = None, content_type: str = "application/json",
              drip: float = 0.0) -> None:
        data = raw if raw is not None else json.dumps(payload).encode("utf-8")
        record = getattr(self, "_record", None)
        if record is not None:
            record["status"] = status  # before the client can see the answer
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if drip > 0:
                self._drip(data, drip)
            else:
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
            self.close_connection = True

    def _drip(self, data: bytes, seconds: float) -> None:
        """The body a little at a time, spread over ``seconds`` (a slow-drip server)."""
        self.wfile.flush()
        pieces = max(1, min(len(data), int(seconds / 0.01)))
        size = -(-len(data) // pieces)
        pause = seconds / pieces
        stopping = self.server.scripted._stopping
        for start in range(0, len(data), size):
            if stopping.wait(pause):
                return
            self.wfile.write(data[start:start + size])
            self.wfile.flush()

    def _reset(self) -> None:
        """Drop the connection without a response (RST where the OS allows)."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        if self.server.scripted.echo_credentials:
            message += _echo_of(self.headers.get("Authorization", ""), self.path)
        self._send(status, {"error": {"message": message, "type": "scripted_error",
                                      "code": str(status)}}, headers)

    def do_GET(self) -> None:
        scripted = self.server.scripted
        if scripted.black_hole:
            scripted._stopping.wait()
            self._reset()
            return
        if self.path.rstrip("/") != "/v1/models" or not scripted.serve_models:
            self._error(404, f"no route {self.path}")
            return
        if not scripted._authorised(self.headers):
            self._error(401, "invalid API key")
            return
        self._send(200, {"object": "list", "data": [
            {"id": name, "object": "model", "owned_by": "sqlsynth"}
            for name in scripted.listed_models]})

    def do_POST(self) -> None:
        scripted = self.server.scripted
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0].rstrip("/")
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._error(400, "request body is not JSON")
            return
        self._record = scripted._record(path, body)
        try:
            self._answer(scripted, path, body)
        finally:
            scripted._leave()
            self._record = None

    def _answer(self, scripted: ScriptedOpenAIServer, path: str, body: dict[str, Any]) -> int:
        served = ("/v1/chat/completions", "/v1/embeddings") if scripted.serve_embeddings \
            else ("/v1/chat/completions",)
        if path not in served:
            self._error(404, f"no route {path}")
            return 404
        if not scripted._authorised(self.headers):
            self._error(401, "invalid API key")
            return 401
        if scripted.black_hole:
            scripted._stopping.wait()  # accepts, reads the request, never answers
            self._reset()
            return 0
        if scripted.models is not None and body.get("model") not in scripted.models:
            self._error(404, f"The model `{body.get('model')}` does not exist")
            return 404
        if scripted.latency:
            time.sleep(scripted.latency)
        fault = scripted._next_fault()
        record = getattr(self, "_record", None)
        if record is not None:
            record["fault"] = fault[0] if fault is not None else None
        if fault is not None:
            kind, retry_after, retry_after_ms = fault
            headers = {}
            if retry_after is not None:
                headers["Retry-After"] = f"{retry_after:g}"
            if retry_after_ms is not None:
                headers["retry-after-ms"] = f"{retry_after_ms:g}"
            if kind == "429":
                self._error(429, "rate limited (scripted)", headers)
                return 429
            if kind == "500":
                self._error(500, "internal error (scripted)", headers)
                return 500
            if kind == "503":
                self._error(503, "service unavailable (scripted)", headers)
                return 503
            if kind == "reset":
                self._reset()
                return 0
            if kind == "non_json":
                self._send(200, None, raw=b"<html><body>502 Bad Gateway</body></html>",
                           content_type="text/html")
                return 200
            if kind == "401":
                self._error(401, "invalid API key (scripted)")
                return 401
            if kind == "malformed":
                self._send(200, None, raw=b'{"id": "broken", "choices": [ this is not json')
                return 200
            if kind == "hang":
                scripted._stopping.wait(scripted.hang_seconds)
        kind = fault[0] if fault is not None else None
        try:
            if path == "/v1/chat/completions":
                payload = scripted._chat(body)
                if kind == "empty_choices":
                    payload["choices"] = []
                elif kind in ("null_content", "empty_content"):
                    payload["choices"][0]["message"]["content"] = (
                        None if kind == "null_content" else "")
            else:
                payload = scripted._embeddings(body)
                if kind == "empty_choices":
                    payload["data"] = []
        except ValueError as exc:
            self._error(400, str(exc))
            return 400
        except Exception as exc:  # noqa: BLE001 - a responder bug becomes a server error
            scripted.errors.append(exc)
            self._error(500, f"responder failed: {type(exc).__name__}: {exc}")
            return 500
        if kind == "wrong_content_type":
            self._send(200, payload, content_type="text/html; charset=utf-8")
        else:
            self._send(200, payload, drip=scripted.drip_seconds if kind == "drip" else 0.0)
        return 200


class ScriptedOpenAIServer:
    """OpenAI-compatible server on 127.0.0.1 (a free port), for use as a context manager.

    ``responder(body)`` returns the assistant text, or a list with one text per choice.
    ``honour_n=False`` imitates servers that ignore ``n`` (one choice per request).
    ``require_key`` makes every request without ``Authorization: Bearer <key>`` a 401.
    ``requests`` lists every POST received as ``{"path", "body", "status", "fault"}``;
    ``answered`` those that got a real answer (status 200, no fault that spoils the body).
    ``models`` makes the server strict, like OpenAI: ``/models`` lists exactly these and a
    request for any other model is a 404 (default: any name is served, ``model_name`` listed).
    ``serve_embeddings=False`` imitates a chat-only server; ``serve_models=False`` a server
    without ``/models``. ``echo_credentials=True`` makes every error body quote the key it
    received, in the shapes careless servers and proxies use (redaction tests).
    """

    def __init__(self, responder: Responder | None = None, *, latency: float = 0.0,
                 embedding_dim: int = 32, honour_n: bool = True, require_key: str | None = None,
                 host: str = "127.0.0.1", port: int = 0, hang_seconds: float = 30.0,
                 model_name: str = "scripted-model", verbose: bool = False,
                 models: list[str] | None = None, serve_embeddings: bool = True,
                 serve_models: bool = True, echo_credentials: bool = False) -> None:
        self.responder: Responder = responder or echo_responder
        self.echo_credentials = echo_credentials
        self.latency = latency
        self.embedding_dim = embedding_dim
        self.honour_n = honour_n
        self.require_key = require_key
        self.hang_seconds = hang_seconds
        self.model_name = model_name
        self.verbose = verbose
        self.models = list(models) if models is not None else None
        self.serve_embeddings = serve_embeddings
        self.serve_models = serve_models
        self.requests: list[dict[str, Any]] = []
        self.errors: list[BaseException] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._faults: deque[tuple[str, float | None, float | None]] = deque()
        self._stopping = threading.Event()
        self._counter = 0
        self.black_hole = False
        self.drip_seconds = 5.0
        self._rate = 0.0
        self._rate_kinds: tuple[str, ...] = TRANSPORT_FAULTS
        self._rng = random.Random(0)
        self._outage: tuple[int, float, str] | None = None  # (after requests, seconds, kind)
        self._outage_window: tuple[float, float] | None = None
        self.outage_requests = 0
        self._httpd = _Server((host, port), self)
        self._thread: threading.Thread | None = None

    @property
    def listed_models(self) -> list[str]:
        """What ``GET /models`` answers."""
        return self.models if self.models is not None else [self.model_name]

    # ---- lifecycle ----------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self._httpd.server_address[0]}:{self.port}/v1"

    def start(self) -> ScriptedOpenAIServer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                            name=f"scripted-openai-{self.port}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        with self._httpd.sockets_lock:
            for sock in list(self._httpd.open_sockets):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- scripting ----------------------------------------------------------------------

    def inject(self, fault: str, count: int = 1, retry_after: float | None = None, *,
               retry_after_ms: float | None = None) -> None:
        """Make the next ``count`` chat/embedding requests fail with ``fault``."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; choose from {', '.join(FAULTS)}")
        with self._lock:
            for _ in range(count):
                self._faults.append((fault, retry_after, retry_after_ms))

    def fault_rate(self, rate: float, kinds: tuple[str, ...] = TRANSPORT_FAULTS, *,
                   seed: int = 0) -> None:
        """Give every request (beyond queued ``inject`` faults) a ``rate`` chance of one of
        ``kinds``, drawn from a generator seeded with ``seed``."""
        unknown = [k for k in kinds if k not in FAULTS]
        if unknown or not 0.0 <= rate <= 1.0:
            raise ValueError(f"bad fault rate {rate} or kinds {unknown}")
        with self._lock:
            self._rate, self._rate_kinds, self._rng = rate, tuple(kinds), random.Random(seed)

    def outage(self, seconds: float, *, after_requests: int = 0, kind: str = "503") -> None:
        """Fail every request with ``kind`` for ``seconds``, starting when the server has
        received ``after_requests`` requests (0: now). ``kind`` is any fault, e.g. ``reset``."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}")
        with self._lock:
            self._outage = (after_requests, seconds, kind)
            self._outage_window = None
            if after_requests <= len(self.requests):
                self._outage_window = (time.monotonic(), time.monotonic() + seconds)

    @property
    def in_outage(self) -> bool:
        with self._lock:
            window = self._outage_window
        return window is not None and window[0] <= time.monotonic() < window[1]

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return len(self._faults)

    def requests_to(self, path_suffix: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["path"].endswith(path_suffix)]

    @property
    def answered(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests
                    if r["status"] == 200
                    and r.get("fault") in (None, "wrong_content_type")]

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        return self.requests_to("/chat/completions")

    @property
    def embedding_requests(self) -> list[dict[str, Any]]:
        return self.requests_to("/embeddings")

    # ---- used by the handler ------------------------------------------------------------

    def _authorised(self, headers: Any) -> bool:
        if self.require_key is None:
            return True
        return headers.get("Authorization", "") == f"Bearer {self.require_key}"

    def _record(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        record = {"path": path, "body": body, "status": None, "fault": None,
                  "t": time.monotonic()}
        with self._lock:
            self.requests.append(record)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        return record

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _next_fault(self) -> tuple[str, float | None, float | None] | None:
        with self._lock:
            if self._outage is not None:
                after, seconds, kind = self._outage
                now = time.monotonic()
                if self._outage_window is None and len(self.requests) > after:
                    self._outage_window = (now, now + seconds)
                window = self._outage_window
                if window is not None and window[0] <= now < window[1]:
                    self.outage_requests += 1
                    return (kind, None, None)
            if self._faults:
                return self._faults.popleft()
            if self._rate and self._rng.random() < self._rate:
                return (self._rng.choice(self._rate_kinds), None, None)
            return None

    def _next_id(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    def _chat(self, body: dict[str, Any]) -> dict[str, Any]:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise ValueError("'messages' must be a non-empty list")
        if body.get("stream"):
            raise ValueError("streaming is not supported by the scripted server")
        n = int(body.get("n") or 1) if self.honour_n else 1
        answer = self.responder(body)
        texts = [answer] if isinstance(answer, str) else list(answer)
        if not texts:
            raise RuntimeError("responder returned no text")
        texts = [texts[i % len(texts)] for i in range(n)]
        prompt_tokens = sum(count_tokens(_text_of(m.get("content"))) for m in messages)
        completion_tokens = sum(count_tokens(t) for t in texts)
        return {
            "id": f"chatcmpl-scripted-{self._next_id()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", self.model_name),
            "choices": [{"index": i, "message": {"role": "assistant", "content": t},
                         "finish_reason": "stop", "logprobs": None}
                        for i, t in enumerate(texts)],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }

    def _embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        inputs = body.get("input")
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, list) or not all(isinstance(t, str) for t in inputs):
            raise ValueError("'input' must be a string or a list of strings")
        as_base64 = body.get("encoding_format") == "base64"
        data = []
        for i, text in enumerate(inputs):
            vector = fake_embedding(text, self.embedding_dim)
            encoded: Any = vector
            if as_base64:
                encoded = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            data.append({"object": "embedding", "index": i, "embedding": encoded})
        tokens = sum(count_tokens(t) for t in inputs)
        return {"object": "list", "data": data, "model": body.get("model", self.model_name),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Scripted OpenAI-compatible server (echoes).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--embedding-dim", type=int, default=32)
    parser.add_argument("--ignore-n", action="store_true", help="answer one choice only")
    parser.add_argument("--require-key", default=None)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--pipeline", action="store_true",
                        help="answer pipeline prompts (PipelineResponder) instead of echoing")
    parser.add_argument("--fault-rate", type=float, default=0.0,
                        help="chance of a random transport fault per request")
    parser.add_argument("--black-hole", action="store_true", help="never answer")
    args = parser.parse_args(argv)
    responder = None
    if args.pipeline:
        from sqlsynth.testing.pipeline_responder import PipelineResponder

        responder = PipelineResponder()
    server = ScriptedOpenAIServer(responder, latency=args.latency,
                                  embedding_dim=args.embedding_dim,
                                  honour_n=not args.ignore_n, require_key=args.require_key,
                                  host=args.host, port=args.port, verbose=args.verbose)
    server.black_hole = args.black_hole
    if args.fault_rate:
        server.fault_rate(args.fault_rate)
    print(f"scripted OpenAI server on {server.base_url} (Ctrl-C stops)", flush=True)
    try:
        server._httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._stopping.set()
        server._httpd.server_close()


if __name__ == "__main__":
    main()
