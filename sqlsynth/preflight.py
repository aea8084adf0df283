"""Check every LLM endpoint a run needs before its first paid call, and name unnamed models.

A run that discovers a wrong URL, a chat-only server or a misspelt model name only after
hundreds of chat calls has wasted them; a few tiny requests up front turn each of those
mistakes into one line saying what to change. Model names are never guessed for a custom
endpoint: the server's ``/models`` is asked, and a choice is only made when it is unambiguous.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from sqlsynth.config import RunConfig
from sqlsynth.llm.errors import LLMUnavailableError

#: model names used when the endpoint is OpenAI's own API and none is configured
OPENAI_DEFAULT_MODELS = {"chat": "gpt-4o-mini", "embeddings": "text-embedding-3-small"}
MODEL_FLAGS = {"chat": "--model", "embeddings": "--embedding-model"}
LOCAL = "local"
#: seconds a preflight request may take; a server slower than this at "ping" is not usable
PREFLIGHT_TIMEOUT = 30.0
_SHOWN_MODELS = 8
#: answers that say nothing about the configuration: asked again after a pause, and if they
#: persist the run goes on (its clients ride out outages; see ``sqlsynth.llm.outage``)
TRANSIENT_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
_RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0)


class PreflightError(LLMUnavailableError):
    """An endpoint the run needs cannot serve it; the message says what to change."""


class EndpointUnreachableError(PreflightError):
    """No connection to the endpoint at all (refused, unknown host, timed out)."""


#: the model name a client gets when the server could not be asked (its requests then fail
#: as "unreachable", which is what the user has to fix first)
UNRESOLVED_MODEL = "unresolved-model"


@dataclass(frozen=True)
class _Endpoint:
    base_url: str
    key_env: str
    timeout: float

    def headers(self) -> dict[str, str]:
        from sqlsynth.llm.config import resolve_api_key

        try:
            key = resolve_api_key(self.base_url, key_env=self.key_env)
        except ValueError as exc:
            raise PreflightError(str(exc)) from None
        return {"Authorization": f"Bearer {key}"}

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """``(status, json-or-text)``; an unreachable server is a ``PreflightError``.

        A transient answer (429, 5xx, a connection reset mid-answer) is asked again a few
        times; when it persists, the status is returned (``None`` for a reset) and the caller
        treats it as "not verified" rather than as a verdict on the configuration.
        """
        import time

        import httpx

        url = self.base_url.rstrip("/") + path
        for delay in (*_RETRY_DELAYS, None):
            try:
                response = httpx.request(method, url, json=body, headers=self.headers(),
                                         timeout=self.timeout)
            except httpx.TimeoutException:
                raise EndpointUnreachableError(f"{url} timed out: no answer within "
                                               f"{self.timeout:g} s; is the server up and "
                                               f"--base-url right?"
                                               ) from None
            except httpx.ConnectError as exc:
                raise EndpointUnreachableError(
                    f"cannot reach {self.base_url} ({type(exc).__name__}: {_first_line(exc)}): "
                    f"is the server running, and is --base-url right?") from None
            except httpx.HTTPError as exc:  # reset or broken answer: the server is there
                if delay is None:
                    return None, f"{type(exc).__name__}: {_first_line(exc)}"
                time.sleep(delay)
                continue
            if response.status_code in TRANSIENT_STATUS and delay is not None:
                time.sleep(delay)
                continue
            try:
                payload: Any = response.json()
            except ValueError:
                payload = response.text
            return response.status_code, payload
        raise AssertionError("unreachable")  # the last delay is None: the loop returns


def _first_line(value: object) -> str:
    """What an answer said, as a message may quote it: one line, no secret it echoed."""
    from sqlsynth.redaction import redact_secrets

    text = redact_secrets(str(value)).strip()
    return text.splitlines()[0][:200] if text else ""


def _error_text(payload: Any) -> str:
    if isinstance(payload, dict):
        err = payload.get("error", payload)
        if isinstance(err, dict):
            return _first_line(err.get("message") or err)
        return _first_line(err)
    return _first_line(payload)


def _endpoint(base_url: str, cfg: RunConfig) -> _Endpoint:
    from sqlsynth.llm.config import split_endpoint

    return _Endpoint(split_endpoint(base_url)[0], cfg.api_key_env,
                     min(cfg.request_timeout, PREFLIGHT_TIMEOUT))


def is_openai_api(base_url: str) -> bool:
    return (urlsplit(base_url).hostname or "").lower() == "api.openai.com"


def list_models(endpoint: _Endpoint) -> list[str] | None:
    """The ids ``GET /models`` lists; None when the server has no such route."""
    status, payload = endpoint.request("GET", "/models")
    if status in (401, 403):
        raise PreflightError(f"{endpoint.base_url} refused the API key (HTTP {status}): set "
                             f"${endpoint.key_env}, or name another variable with "
                             f"--api-key-env")
    if status != 200 or not isinstance(payload, dict) or not isinstance(payload.get("data"),
                                                                        list):
        return None
    return [str(m["id"]) for m in payload["data"] if isinstance(m, dict) and "id" in m]


def _shown(models: list[str]) -> str:
    more = len(models) - _SHOWN_MODELS
    return ", ".join(models[:_SHOWN_MODELS]) + (f", ... ({more} more)" if more > 0 else "")


def _is_embedding_name(name: str) -> bool:
    low = name.lower()
    return "embed" in low or low.startswith(("bge", "gte", "e5-", "all-minilm"))


def choose_model(kind: str, base_url: str, models: list[str] | None) -> str:
    """The model to use when none is configured, or a ``PreflightError`` saying to choose."""
    if is_openai_api(base_url):
        return OPENAI_DEFAULT_MODELS[kind]
    flag = MODEL_FLAGS[kind]
    if models is None:
        raise PreflightError(f"{base_url} does not list its models (GET /models): name the "
                             f"{kind} model with {flag}")
    fitting = [m for m in models if _is_embedding_name(m) == (kind == "embeddings")]
    candidates = fitting or models
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise PreflightError(f"{base_url} lists no models: name the {kind} model with {flag}")
    raise PreflightError(f"{base_url} serves {len(candidates)} models ({_shown(candidates)}): "
                         f"choose the {kind} model with {flag}")


def resolve_model(kind: str, base_url: str, cfg: RunConfig) -> str:
    """``cfg``'s model name for ``kind`` ("chat" / "embeddings"), else the server's only one.

    A server that cannot be reached gives ``UNRESOLVED_MODEL``: building a client needs no
    connection, and its first request reports the unreachable server.
    """
    configured = cfg.model if kind == "chat" else cfg.embedding_model
    if configured:
        return configured
    if is_openai_api(base_url):
        return OPENAI_DEFAULT_MODELS[kind]
    endpoint = _endpoint(base_url, cfg)
    try:
        models = list_models(endpoint)
    except EndpointUnreachableError:
        return UNRESOLVED_MODEL
    return choose_model(kind, endpoint.base_url, models)


def _model_missing(payload: Any, model: str) -> bool:
    text = _error_text(payload).lower()
    return model.lower() in text or "model" in text


def _check_chat(cfg: RunConfig) -> tuple[RunConfig, list[str]]:
    """The chat endpoint: reachable, key accepted, the model served.

    A model that ``/models`` lists needs no request. Otherwise one ``max_tokens=1`` request
    decides: servers that serve any name (llama.cpp) answer it, strict ones (OpenAI, vLLM)
    say the model does not exist. A server error on that request is no verdict on the
    configuration, so the run goes on with a note.
    """
    endpoint = _endpoint(cfg.base_url, cfg)
    models = list_models(endpoint)
    model = cfg.model or choose_model("chat", endpoint.base_url, models)
    cfg = replace(cfg, model=model)
    if models is not None and model in models:
        return cfg, [f"chat: {model} at {endpoint.base_url} (listed by /models)"]
    status, payload = endpoint.request("POST", "/chat/completions", {
        "model": model, "messages": [{"role": "user", "content": "ping"}], "max_tokens": 1})
    if status == 200:
        return cfg, [f"chat: {model} at {endpoint.base_url} (answered)"]
    if status in (401, 403):
        raise PreflightError(f"{endpoint.base_url} refused the API key (HTTP {status}): set "
                             f"${cfg.api_key_env}, or name another variable with --api-key-env")
    if status in (400, 404) and _model_missing(payload, model):
        listed = f"; it lists: {_shown(models)}" if models else ""
        raise PreflightError(f"model {model!r} is not served at {endpoint.base_url}{listed}: "
                             f"set --model")
    if status in (404, 405, 501):
        raise PreflightError(f"{endpoint.base_url} has no chat endpoint (POST /chat/completions "
                             f"answered HTTP {status}): --base-url must be the API root, "
                             f"e.g. http://127.0.0.1:8000/v1")
    note = (f"chat: {model} at {endpoint.base_url} could not be verified (a test request "
            f"answered HTTP {status}: {_error_text(payload)}); going on")
    return cfg, [note]


def _check_embeddings(cfg: RunConfig, base_url: str) -> tuple[RunConfig, str]:
    endpoint = _endpoint(base_url, cfg)
    try:
        model = cfg.embedding_model or choose_model("embeddings", endpoint.base_url,
                                                    list_models(endpoint))
    except PreflightError as exc:
        raise PreflightError(f"{exc}, or embed with the bundled model: "
                             f"--embedding-base-url local") from None
    status, payload = endpoint.request("POST", "/embeddings", {"model": model, "input": ["ping"]})
    if status == 200:
        return replace(cfg, embedding_model=model), f"embeddings: {model} at {endpoint.base_url}"
    hint = ("--embedding-base-url local embeds with the bundled all-MiniLM-L6-v2 "
            "instead (or point --embedding-base-url at an embedding server)")
    if status in (401, 403):
        raise PreflightError(f"{endpoint.base_url} refused the API key for embeddings "
                             f"(HTTP {status}): set ${cfg.api_key_env}")
    if status in (400, 404) and model.lower() in _error_text(payload).lower():
        raise PreflightError(f"embedding model {model!r} is not served at {endpoint.base_url}: "
                             f"set --embedding-model, or {hint}")
    if status in (404, 405, 501):
        raise PreflightError(f"{endpoint.base_url} has no embeddings endpoint (HTTP {status}): "
                             f"{hint}")
    if status is None or status in TRANSIENT_STATUS:
        return replace(cfg, embedding_model=model), (
            f"embeddings: {model} at {endpoint.base_url} could not be verified (a test request "
            f"answered {status or 'with a reset'}: {_error_text(payload)}); going on")
    raise PreflightError(f"a test embedding request to {endpoint.base_url} failed (HTTP "
                         f"{status}: {_error_text(payload)}): {hint}")


def preflight(cfg: RunConfig, *, chat: bool = True, embeddings: bool = True) -> tuple[RunConfig,
                                                                                     list[str]]:
    """Check the endpoints ``cfg`` needs; returns it with model names filled in, and notes.

    Raises ``PreflightError`` (exit code LLM_UNAVAILABLE) with one line on the first problem.
    The local model and local embeddings need no check beyond their files being installed.
    """
    from sqlsynth.llm.config import check_base_url

    notes: list[str] = []
    for url in (cfg.base_url, cfg.embedding_base_url):
        if url and url != LOCAL:
            check_base_url(url)  # a malformed URL is a usage error (exit 2), not a dead server
    if chat:
        if cfg.base_url:
            cfg, chat_notes = _check_chat(cfg)
            notes.extend(chat_notes)
        else:
            from sqlsynth.llm.local import default_gguf_path

            if not cfg.local_model_path:
                default_gguf_path()  # a missing package is named now, not after the first rows
    if embeddings:
        base = cfg.embedding_base_url or cfg.base_url
        if base and base != LOCAL:
            cfg, note = _check_embeddings(cfg, base)
            notes.append(note)
    from sqlsynth.redaction import redact_secrets

    return cfg, [redact_secrets(note) for note in notes]
