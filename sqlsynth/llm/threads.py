"""Blocking model calls awaited from asyncio without holding the process at Ctrl-C.

``asyncio.to_thread`` runs the call in the loop's default executor, whose threads
``asyncio.run`` joins before it returns, and the interpreter joins again at exit: after Ctrl-C
the process waited for the local model's generation in progress, which cannot be stopped while
the model reads its prompt (prefill: tens of seconds for a long schema prompt on a loaded
machine). Here the call runs in a daemon thread: cancelling the await returns at once, the
thread is left to finish or to die with the process. Nothing is lost by that: an answer is only
used (and cached) once the await returns it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_running = 0
_running_lock = threading.Lock()


def running() -> int:
    """Calls of ``in_daemon_thread`` still running (awaited or abandoned)."""
    return _running


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # cancelled while the thread worked
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


async def in_daemon_thread(fn: Callable[..., T], *args: Any, name: str = "sqlsynth-model") -> T:
    """``fn(*args)`` in a new daemon thread (with this task's context variables), awaited."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    context = contextvars.copy_context()

    def target() -> None:
        global _running
        result: Any = None
        error: BaseException | None = None
        try:
            result = context.run(fn, *args)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
            error = exc
        finally:
            with _running_lock:
                _running -= 1
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
            loop.call_soon_threadsafe(_settle, future, result, error)

    global _running
    with _running_lock:
        _running += 1
    try:
        threading.Thread(target=target, name=name, daemon=True).start()
    except BaseException:
        with _running_lock:
            _running -= 1
        raise
    return await future
