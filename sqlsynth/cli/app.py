"""``sqlsynth``'s entry point: parse, run one command, turn what it raised into an exit code."""

from __future__ import annotations

import builtins
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


def _on_interrupt(signum: int, frame: Any) -> None:
    """First Ctrl-C: say so at once, then stop; a second one quits without waiting for the
    model call in progress (the run folder is consistent after every row)."""
    from sqlsynth.errors import ExitCode

    if getattr(_on_interrupt, "seen", False):
        os._exit(ExitCode.INTERRUPTED)
        return
    _on_interrupt.seen = True  # type: ignore[attr-defined]
    print("\ninterrupted: stopping (a model call in progress may take a few seconds; Ctrl-C "
          "again quits now); rerun the same command to resume", file=sys.stderr, flush=True)
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    return _dispatch(build_parser().parse_args(argv))


def run_script(pipeline_cls: Any, command: str) -> int:
    """``sqlsynth generate`` / ``refine`` with the settings of ``sqlsynth.toml`` and the
    environment, running ``pipeline_cls`` (a subclass the ``init`` scripts edit): the same
    input reading (Spider/BIRD names, ``field_map``), preflight, run folder claim, summary,
    ``final.jsonl``, data card, one-line errors and exit codes as the command."""
    import argparse

    if command not in ("generate", "refine"):
        raise ValueError(f"run_script: command must be generate or refine, got {command!r}")
    args = argparse.Namespace(command=command, config=None, quiet=False, verbose=0)
    return _dispatch(args, pipeline_cls)


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
