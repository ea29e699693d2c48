"""The customer lookup index, built in a child process.

Parsing and indexing a 100,000-customer list takes about a second of CPU. In the serving
process that second holds the interpreter away from the threads that ack Slack's requests
(issue 16, item 7), and its 500,000 short-lived strings leave the heap fragmented. Here the
serving process only downloads the list (waiting on the network) and hands the bytes to a
child, which returns the finished tables: a few large byte strings and arrays, taken in
about a hundredth of the time. It returns them in two steps (bot.core.lookup.Snapshot):
the lookups' tables as soon as they are built (the index answers from then on), then the
name order and search text. One child per serving process, started on the first build;
a child that dies is replaced on the next build, and if none can start the build runs in
the serving process (slower acks, same answers).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from bot.core.errors import UnexpectedResponse
from bot.core.lookup import Prepared, Snapshot, build_snapshot

log = logging.getLogger(__name__)

BUILD_TIMEOUT_SECONDS = 300.0  # far beyond a 300,000-customer build (a few seconds)


# In the child: the snapshot whose second step the serving process asks for next.
_built: dict[int, Snapshot] = {}


def _first_step(body: bytes, key: int) -> Snapshot:
    snapshot = build_snapshot(body, prepare=False)
    _built[key] = snapshot
    return snapshot


def _second_step(key: int) -> Prepared:
    return _built.pop(key).second_step()


def _in_the_child(parent: int) -> None:
    """Yield the CPU to the serving process (its acks come first): on Linux the child runs
    only when a CPU would otherwise be idle (a CPU never idle for BUILD_TIMEOUT_SECONDS
    makes the build run in the serving process instead). Leave as soon as the parent is
    gone (killed, it cannot say)."""
    with contextlib.suppress(AttributeError, OSError):  # else build at the same priority
        os.nice(10)
    with contextlib.suppress(AttributeError, OSError):  # Linux: only when a CPU is idle
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class IndexBuilder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._builds = 0

    def __call__(self, body: bytes) -> Snapshot:
        try:
            try:
                with self._lock:  # each build's two steps queued together, in order
                    executor = self._executor()
                    self._builds += 1
                    first = executor.submit(_first_step, body, self._builds)
                    second = executor.submit(_second_step, self._builds)
                snapshot = first.result(timeout=BUILD_TIMEOUT_SECONDS)
            except (BrokenProcessPool, OSError, TimeoutError) as exc:
                log.warning("index builder process failed (%s): building here", type(exc).__name__)
                self._discard()
                return build_snapshot(body)
        except ValueError:  # the list is not what the API documents
            raise UnexpectedResponse(200) from None
        snapshot.prepare_from(lambda: self._second(executor, second))
        return snapshot

    def _second(self, executor: ProcessPoolExecutor, future: Future[Prepared]) -> Prepared:
        try:
            return future.result(timeout=BUILD_TIMEOUT_SECONDS)
        except (BrokenProcessPool, OSError, TimeoutError):
            self._discard(executor)  # and the snapshot makes its second step itself
            raise

    def _executor(self) -> ProcessPoolExecutor:
        """The child's pool (called under the lock)."""
        if self._pool is None:
            # spawn, not fork: the serving process has threads (and locks held by them).
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=context,
                initializer=_in_the_child,
                initargs=(os.getpid(),),
            )
        return self._pool

    def _discard(self, pool: ProcessPoolExecutor | None = None) -> None:
        """Stop the child (a hung one too) and forget it: the next build starts another.
        `pool`: only if it is still that one."""
        with self._lock:
            if pool is not None and pool is not self._pool:
                return
            pool, self._pool = self._pool, None
        if pool is not None:
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()  # the executor has no public way to stop a hung child
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self._discard()
