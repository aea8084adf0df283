"""``sqlsynth view``: a local review app for one run folder (Starlette, served by uvicorn).

Bound to 127.0.0.1 on a free port; it prints its URL and opens nothing. Every asset is served
by the app itself (``static/``), so it works offline. The databases are only read, through
``DatabaseManager.execute`` (read-only, one statement, time and row limits), and the only file
it writes is the reviewer's ``review.jsonl``.
"""

from __future__ import annotations

import socket
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from sqlsynth.viewer.card import render_card
from sqlsynth.viewer.highlight import highlight_sql
from sqlsynth.viewer.local_only import LocalOnly, allowed_hosts
from sqlsynth.viewer.pricing import load_prices
from sqlsynth.viewer.review import ReviewMarks
from sqlsynth.viewer.run_folder import RunFolder, row_key
from sqlsynth.viewer.select import SORTS, select_rejects, select_rows
from sqlsynth.viewer.summary import run_summary

STATIC = Path(__file__).parent / "static"
PAGE_SIZE = 50
RESULT_ROWS = 200


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value)


class ReviewState:
    """The run folder, its marks and the database, shared by all requests."""

    def __init__(self, run_dir: str | Path, db: str | None, prices: dict[str, tuple[float, float]],
                 query_timeout: float = 5.0) -> None:
        self.folder = RunFolder.load(run_dir)
        self.marks = ReviewMarks(self.folder.path)
        self.prices = prices
        self.keys = {i: row_key(r) for i, r in enumerate(self.folder.rows)}
        self.by_key = {k: i for i, k in self.keys.items()}
        self.db_target = db or self.folder.database()
        self.query_timeout = query_timeout
        self._db: Any = None
        self._db_lock = threading.Lock()
        self.db_error: str | None = None
        if not self.db_target:
            self.db_error = "no database recorded for this run; start the viewer with --db"
        elif "***" in self.db_target:
            self.db_error = "the recorded database URL has its password hidden; pass --db"

    def database(self) -> Any:
        """The database manager, opened on first use (requests run in a thread pool)."""
        with self._db_lock:
            if self._db is None and self.db_error is None:
                from sqlsynth.db import DatabaseManager

                try:
                    self._db = DatabaseManager.from_path_or_url(
                        self.db_target, timeout=self.query_timeout, max_rows=RESULT_ROWS + 1)
                except Exception as exc:  # noqa: BLE001 - shown in the page, the app stays up
                    self.db_error = f"cannot open {self.db_target}: {type(exc).__name__}: {exc}"
            return self._db

    def brief(self, index: int) -> dict[str, Any]:
        row = self.folder.rows[index]
        return {"key": self.keys[index], "index": index, "db_id": row.get("db_id"),
                "question": row.get("question"),
                "difficulty": row.get("sql_component_difficulty"),
                "execution": row.get("sql_execution_difficulty"),
                "style": row.get("question_type"), "mark": self.marks.get(self.keys[index])}


def _options(state: ReviewState) -> dict[str, list[str]]:
    def values(field: str) -> list[str]:
        return sorted(state.folder.values(field))

    return {"db": values("db_id"), "difficulty": values("sql_component_difficulty"),
            "execution": values("sql_execution_difficulty"), "style": values("question_type"),
            "reason": sorted(state.folder.reject_reasons()),
            "step": sorted({str(r.get("step")) for r in state.folder.rejects}, key=int),
            "sort": list(SORTS)}


def build_app(state: ReviewState, port: int | None = None) -> Starlette:
    """The review app; ``port`` is the one it listens on (the Host and Origin it accepts;
    None, for tests and library use: any port of 127.0.0.1/localhost, and ``testserver``)."""
    def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    figures: dict[str, Any] = {}

    def summary(request: Request) -> Response:
        if not figures:  # the folder is read once; parsing every SQL once is enough
            figures.update(run_summary(state.folder, state.prices))
        s = dict(figures)
        s["options"] = _options(state)
        s["marks"] = state.marks.counts()
        s["database"] = {"target": state.db_target, "error": state.db_error}
        return JSONResponse(s)

    def rows(request: Request) -> Response:
        params = dict(request.query_params)
        chosen = select_rows(list(enumerate(state.folder.rows)), params, state.marks.marks,
                             state.keys)
        try:
            offset = max(0, int(params.get("offset", 0)))
            limit = min(500, max(1, int(params.get("limit", PAGE_SIZE))))
        except ValueError:
            return JSONResponse({"error": "offset and limit must be numbers"}, status_code=400)
        page = chosen[offset:offset + limit]
        return JSONResponse({"total": len(chosen), "offset": offset,
                             "rows": [state.brief(i) for i, _ in page]})

    def _row_or_404(request: Request) -> tuple[int, dict[str, Any]] | Response:
        index = state.by_key.get(request.path_params["key"])
        if index is None:
            return JSONResponse({"error": "no such row"}, status_code=404)
        return index, state.folder.rows[index]

    def row(request: Request) -> Response:
        found = _row_or_404(request)
        if isinstance(found, Response):
            return found
        index, data = found
        return JSONResponse({**state.brief(index), "row": data,
                             "sql_html": highlight_sql(str(data.get("SQL", "")))},
                            )

    def result(request: Request) -> Response:
        found = _row_or_404(request)
        if isinstance(found, Response):
            return found
        _, data = found
        db = state.database()
        if db is None:
            return JSONResponse({"status": "unavailable", "error": state.db_error})
        res = db.execute(str(data.get("db_id", "")), str(data.get("SQL", "")))
        shown = res.rows[:RESULT_ROWS]
        return JSONResponse({
            "status": res.status.value, "error": res.error, "columns": list(res.columns),
            "rows": [[_jsonable(v) for v in r] for r in shown],
            "truncated": bool(res.truncated or len(res.rows) > RESULT_ROWS),
            "elapsed": round(res.elapsed, 4)})

    async def mark(request: Request) -> Response:
        found = _row_or_404(request)
        if isinstance(found, Response):
            return found
        _, data = found
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            # a page on another site can send a form or text/plain POST without asking; JSON
            # needs the browser's permission (CORS), which this app never grants
            return JSONResponse({"error": "send the mark as application/json"},
                                status_code=415)
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "body must be JSON {status, note}"}, status_code=400)
        if not isinstance(body, dict):
            return JSONResponse({"error": "body must be JSON {status, note}"}, status_code=400)
        try:
            saved = state.marks.set(data, body.get("status"), str(body.get("note") or ""))
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"mark": saved, "marks": state.marks.counts()})

    def rejects(request: Request) -> Response:
        params = dict(request.query_params)
        chosen = select_rejects(state.folder.rejects, params)
        groups: dict[tuple[int, str, str], list[dict[str, Any]]] = {}
        for rej in chosen:
            key = (int(rej.get("step", 0)), str(rej.get("step_name", "")),
                   str(rej.get("reason", "")))
            groups.setdefault(key, []).append(rej)
        per_group = 30
        out = []
        for (step, name, reason), items in sorted(groups.items(),
                                                 key=lambda kv: (kv[0][0], -len(kv[1]))):
            out.append({"step": step, "step_name": name, "reason": reason,
                        "count": len(items), "items": [
                            {"detail": r.get("detail"), "row": r.get("row"),
                             "sql_html": highlight_sql(str((r.get("row") or {}).get("SQL", "")))}
                            for r in items[:per_group]]})
        return JSONResponse({"total": len(chosen), "groups": out,
                             "reasons": Counter(str(r.get("reason")) for r in chosen)})

    def report(request: Request) -> Response:
        return HTMLResponse(render_card(state.folder, state.prices))

    routes = [
        Route("/", index),
        Route("/report", report),
        Route("/api/summary", summary),
        Route("/api/rows", rows),
        Route("/api/rows/{key}", row),
        Route("/api/rows/{key}/result", result),
        Route("/api/rows/{key}/mark", mark, methods=["POST"]),
        Route("/api/rejects", rejects),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    # only local host names on its own port, no other site's requests, bounded bodies, a CSP
    hosts = allowed_hosts(port, () if port else ("testserver",))
    middleware = [Middleware(LocalOnly, hosts=hosts)]
    return Starlette(routes=routes, middleware=middleware)


def free_socket(port: int = 0) -> socket.socket:
    """A listening socket on 127.0.0.1 (``port`` 0: one the system picks free)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise ValueError(f"cannot listen on 127.0.0.1:{port} ({exc.strerror}); "
                         "choose another --port, or leave it out for a free one") from None
    sock.listen(128)
    return sock


def serve(run_dir: str | Path, *, db: str | None = None, port: int = 0,
          prices: str | None = None, query_timeout: float = 5.0) -> int:
    """Serve the review app until Ctrl-C; prints the URL first (and opens nothing)."""
    import uvicorn

    state = ReviewState(run_dir, db, load_prices(prices), query_timeout)
    sock = free_socket(port)
    host, bound = sock.getsockname()[:2]
    print(f"sqlsynth view: {len(state.folder.rows)} rows, {len(state.folder.rejects)} rejects "
          f"in {state.folder.path}")
    if state.db_error:
        print(f"sqlsynth view: SQL results off: {state.db_error}")
    print(f"sqlsynth view: open http://{host}:{bound}/  (Ctrl-C to stop)", flush=True)
    config = uvicorn.Config(build_app(state, bound), log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        if state._db is not None:
            state._db.close()
    sys.stdout.flush()
    return 0
