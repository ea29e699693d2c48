"""Work the services start beside the request that asked: one place, so that the unit
tests (which run in-process, with no threads) can run it inline instead."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")


def start(work: Callable[[], object], name: str) -> None:
    """Run `work` on a thread of its own (a daemon: it never holds up a shutdown)."""
    threading.Thread(target=work, name=name, daemon=True).start()


def beside(work: Callable[[], T], name: str) -> Callable[[], T]:
    """Start `work` now; the function returned waits for its result (or raises its error)."""
    future: Future[T] = Future()

    def run() -> None:
        try:
            future.set_result(work())
        except BaseException as exc:  # handed to whoever waits for the result
            future.set_exception(exc)

    start(run, name)
    return future.result
