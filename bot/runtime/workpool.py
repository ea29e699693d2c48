"""The threads that do the work after an ack, with room for a bounded number of jobs.

Bolt's listener threads only check and ack; Loyalty API work runs here. When every
thread is busy and the queue is full, `submit` refuses at once (the person is told the
bot is busy), so a flood of requests cannot grow the process without limit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import TypeVar

from bot.core.errors import LoyaltyError
from bot.core.say import Say

T = TypeVar("T")


class Overloaded(LoyaltyError):
    def __init__(self) -> None:
        super().__init__(
            Say(
                "I have too many requests to work on right now, so I did not start this one. "
                "Nothing was changed; try again in a minute."
            )
        )


class WorkPool:
    def __init__(self, threads: int, queued: int, *, executor: Executor | None = None) -> None:
        self._executor = executor or ThreadPoolExecutor(threads, thread_name_prefix="work")
        self._room = threading.BoundedSemaphore(threads + queued)

    def submit(self, job: Callable[[], T]) -> Future[T]:
        """Run `job` on the pool; Overloaded (nothing started) when it is full."""
        if not self._room.acquire(blocking=False):
            raise Overloaded()
        try:
            future = self._executor.submit(job)
        except BaseException:
            self._room.release()
            raise
        future.add_done_callback(lambda _: self._room.release())
        return future

    def has_room(self) -> bool:
        if self._room.acquire(blocking=False):
            self._room.release()
            return True
        return False

    def shutdown(self, wait: bool = True) -> None:
        self._executor.shutdown(wait=wait)
