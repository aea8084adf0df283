"""The review app answers only the local browser tab it was opened in.

The app listens on 127.0.0.1, but any web page the reviewer visits can make the browser send
requests there: a DNS name rebound to 127.0.0.1 (stopped by the Host check), a cross-site
``fetch``/form POST (stopped by the Origin and ``Sec-Fetch-Site`` checks; the app never grants
CORS), a page that frames the app (``frame-ancestors 'none'``), a row whose stored text
smuggles markup (the Content-Security-Policy allows scripts from the app itself only). A
request body is read at most ``MAX_BODY`` bytes (a 300 MB note would be rewritten into
``review.jsonl`` on every later mark).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

MAX_BODY = 64 * 1024
LOCAL_NAMES = ("127.0.0.1", "localhost")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
_HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-resource-policy", b"same-origin")]
Scope = dict[str, Any]
ASGI = Callable[[Scope, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]],
                Awaitable[None]]


def allowed_hosts(port: int | None, extra: Iterable[str] = ()) -> set[str]:
    """``127.0.0.1:port`` and ``localhost:port`` (any port when ``port`` is None)."""
    hosts = set(extra)
    for name in LOCAL_NAMES:
        hosts.add(f"{name}:{port}" if port else name)
        if not port:
            hosts.add(f"{name}:*")
    return hosts


def _host_ok(host: str, hosts: set[str]) -> bool:
    host = host.strip().lower()
    if host in hosts:
        return True
    name, _, port = host.rpartition(":")
    return bool(port.isdigit() and f"{name}:*" in hosts)


class LocalOnly:
    """ASGI middleware: Host, Origin and body-size checks in front of the app; security headers
    on every answer."""

    def __init__(self, app: ASGI, *, hosts: set[str], max_body: int = MAX_BODY) -> None:
        self.app = app
        self.hosts = hosts
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await _answer(send, *refusal)
            return
        seen = 0

        async def limited_receive() -> dict:
            nonlocal seen
            message = await receive()
            if message.get("type") == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:  # more than its Content-Length said: stop reading
                    return {"type": "http.disconnect"}
            return message

        async def with_headers(message: dict) -> None:
            if message.get("type") == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *_HEADERS]}
            await send(message)

        await self.app(scope, limited_receive, with_headers)

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str] | None:
        if not _host_ok(headers.get("host", ""), self.hosts):
            return 400, "this app answers only http://127.0.0.1:<port> and localhost:<port>"
        origin = headers.get("origin")
        if origin is not None and not _host_ok(origin.lower().removeprefix("http://"),
                                               self.hosts):
            return 403, "requests from other sites are refused"
        if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return 403, "requests from other sites are refused"
        length = headers.get("content-length")
        if length is None and scope.get("method") in ("POST", "PUT", "PATCH"):
            return 411, "send the body with a Content-Length"
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return 413, f"the request body is over {self.max_body} bytes"
        return None


async def _answer(send: Any, status: int, text: str) -> None:
    body = ('{"error": "%s"}' % text).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *_HEADERS]})
    await send({"type": "http.response.body", "body": body})
