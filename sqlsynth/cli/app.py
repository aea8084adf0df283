"""``sqlsynth``'s entry point: parse, run one command, turn what it raised into an exit code."""

from __future__ import annotations

import builtins
import contextlib
import os
import signal
import sys
import threading
import time
from typing import Any

from sqlsynth.cli.parser import _config, build_parser

#: exception groups (Python 3.11+; an empty tuple catches nothing on 3.10)
_EXCEPTION_GROUPS: Any = getattr(builtins, "BaseExceptionGroup", ())


class _PipeSafeStream:
    """stdout or stderr that stops writing, silently, once its reader has gone (``| head``,
    ``2>&1 | head``).

    The command goes on (a run still writes ``final.jsonl`` and ``report.html``, and exits
    with its own code); later writes go nowhere, and the descriptor is pointed at /dev/null so
    the interpreter's last flush cannot fail.
    """

    def __init__(self, stream: Any, *, redact: bool = False) -> None:
        self._stream = stream
        self.closed_by_reader = False
        #: stderr carries every message (notes, warnings, log lines): none may show a secret
        self._redact = redact

    def _gone(self) -> None:
        self.closed_by_reader = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass

    def write(self, text: str) -> int:
        if self.closed_by_reader:
            return len(text)
        shown = text
        if self._redact:
            from sqlsynth.redaction import redact_secrets

            shown = redact_secrets(text)
        try:
            self._stream.write(shown)
            return len(text)
        except BrokenPipeError:
            self._gone()
            return len(text)

    def flush(self) -> None:
        if self.closed_by_reader:
            return
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._gone()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _raise_interrupt() -> None:
    raise KeyboardInterrupt


def _on_interrupt(signum: int, frame: Any) -> None:
    """First Ctrl-C: say so at once, then stop; a second one quits without waiting for
    anything (the run folder is consistent after every row).

    While an event loop runs in this (the main) thread, the KeyboardInterrupt is raised from a
    loop callback, between tasks, as ``asyncio.Runner`` does with its own handler: raised
    inside a task's step it would end that task with it (a "Task exception was never
    retrieved" traceback at exit) instead of stopping the loop; the loop's shutdown then
    cancels every task (model calls run in daemon threads, so none is waited for)."""
    from sqlsynth.errors import ExitCode

    if getattr(_on_interrupt, "seen", False):
        os._exit(ExitCode.INTERRUPTED)
        return
    _on_interrupt.seen = True  # type: ignore[attr-defined]
    print("\ninterrupted: stopping (Ctrl-C again quits at once); rerun the same command to "
          "resume", file=sys.stderr, flush=True)
    asyncio = sys.modules.get("asyncio")
    loop = asyncio._get_running_loop() if asyncio is not None else None
    if loop is not None and not loop.is_closed():
        loop.call_soon_threadsafe(_raise_interrupt)
        return
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run one command; ``argv=None`` (the ``sqlsynth`` program) reads ``sys.argv``."""
    code = _dispatch(build_parser().parse_args(argv))
    if argv is None:
        _exit_now_if_interrupted(code)
    return code


def _exit_now_if_interrupted(code: int) -> None:
    """After Ctrl-C, end the process now if a local model call still runs in its thread.

    Everything of the run is written by then (files flushed, the run folder consistent, as
    after every row). Left to the interpreter's normal exit, the process would wait in
    llama.cpp's own shutdown for the computation in progress (2-8 s under load, more for a
    long prompt); ``os._exit`` skips only that and other exit-time frees."""
    from sqlsynth.errors import ExitCode

    threads = sys.modules.get("sqlsynth.llm.threads")
    if code != ExitCode.INTERRUPTED or threads is None or not threads.running():
        return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def run_script(pipeline_cls: Any, command: str) -> int:
    """``sqlsynth generate`` / ``refine`` with the settings of ``sqlsynth.toml`` and the
    environment, running ``pipeline_cls`` (a subclass the ``init`` scripts edit): the same
    input reading (Spider/BIRD names, ``field_map``), preflight, run folder claim, summary,
    ``final.jsonl``, data card, one-line errors and exit codes as the command."""
    import argparse

    if command not in ("generate", "refine"):
        raise ValueError(f"run_script: command must be generate or refine, got {command!r}")
    args = argparse.Namespace(command=command, config=None, quiet=False, verbose=0)
    code = _dispatch(args, pipeline_cls)
    _exit_now_if_interrupted(code)
    return code


def _dispatch(args: Any, pipeline_cls: Any = None) -> int:
    from sqlsynth.cli import commands
    from sqlsynth.errors import ExitCode, exit_code_for, is_user_error
    from sqlsynth.progress import quiet_third_party, set_verbosity
    from sqlsynth.redaction import redact_secrets

    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout = _PipeSafeStream(stdout)  # type: ignore[assignment]
    sys.stderr = _PipeSafeStream(stderr, redact=True)  # type: ignore[assignment]
    set_verbosity(-1 if args.quiet else args.verbose)
    if args.verbose:
        import logging

        # after the swap: log lines go through the redacting stderr
        logging.basicConfig(level=logging.DEBUG if args.verbose > 1 else logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    else:
        quiet_third_party()

    handler = getattr(commands, f"cmd_{args.command}")
    start = time.perf_counter()
    previous_sigint = None
    if threading.current_thread() is threading.main_thread():
        _on_interrupt.seen = False  # type: ignore[attr-defined]
        previous_sigint = signal.signal(signal.SIGINT, _on_interrupt)
    try:
        extra = {"pipeline_cls": pipeline_cls} if pipeline_cls is not None else {}
        return int(handler(args, _config, **extra) or 0)
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except _EXCEPTION_GROUPS as group:
        exc = _first_leaf(group)
        if not is_user_error(exc):
            return _internal_error(group)
        print(f"sqlsynth {args.command}: error: {redact_secrets(str(exc))}", file=sys.stderr)
        return int(exit_code_for(exc))
    except Exception as exc:  # noqa: BLE001 - every error ends here, as one line or a traceback
        if not is_user_error(exc):
            return _internal_error(exc)
        # one line, printed once, never with a password or key in it
        print(f"sqlsynth {args.command}: {_label(exc)}: {redact_secrets(str(exc))}",
              file=sys.stderr)
        return int(exit_code_for(exc))
    finally:
        if previous_sigint is not None:
            signal.signal(signal.SIGINT, previous_sigint)
        sys.stdout.flush()  # a reader that left is noticed here, not at interpreter exit
        sys.stdout = stdout
        if args.command in {"generate", "refine", "demo"} and not args.quiet:
            print(f"wall time: {time.perf_counter() - start:.1f} s", file=sys.stderr)
        sys.stderr.flush()
        sys.stderr = stderr


def _internal_error(exc: BaseException) -> int:
    """A bug: the traceback is shown (it is what to report), with secrets masked."""
    import traceback

    from sqlsynth.errors import ExitCode
    from sqlsynth.redaction import redact_secrets

    text = "".join(traceback.format_exception(exc))
    print(redact_secrets(text), end="", file=sys.stderr)
    return int(ExitCode.ERROR)


def _label(exc: BaseException) -> str:
    return "incomplete" if type(exc).__name__ == "IncompleteRunError" else "error"


def _first_leaf(exc: BaseException) -> BaseException:
    """The first real exception inside (nested) exception groups."""
    while isinstance(exc, _EXCEPTION_GROUPS) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc
