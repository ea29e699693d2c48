"""The threads that do the work after an ack, with room for a bounded number of jobs.

Bolt's listener threads only check and ack; Loyalty API work runs here. When every
thread is busy and the queue is full, `submit` refuses at once (the person is told the
bot is busy), so a flood of requests cannot grow the process without limit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
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


# How long a job may wait for the requests being answered to be acked (a burst of 200
# takes about a quarter of a second); the reply comes that much later, within its 5 s.
ACKS_FIRST_SECONDS = 0.3


class Answering:
    """The Slack requests being answered right now (the web app counts them). A burst's
    acks all wait for one interpreter: jobs start once they are sent, so that the work
    after 200 acks does not make the 200th ack wait for it."""

    def __init__(self) -> None:
        self._count = 0
        self._quiet = threading.Condition()

    @contextmanager
    def request(self) -> Iterator[None]:
        with self._quiet:
            self._count += 1
        try:
            yield
        finally:
            with self._quiet:
                self._count -= 1
                if not self._count:
                    self._quiet.notify_all()

    def wait_until_acked(self, most: float) -> None:
        with self._quiet:
            self._quiet.wait_for(lambda: not self._count, timeout=most)


class WorkPool:
    def __init__(
        self,
        threads: int,
        queued: int,
        *,
        executor: Executor | None = None,
        answering: Answering | None = None,
    ) -> None:
        self._executor = executor or ThreadPoolExecutor(threads, thread_name_prefix="work")
        self._room = threading.BoundedSemaphore(threads + queued)
        self.answering = answering

    def submit(self, job: Callable[[], T]) -> Future[T]:
        """Run `job` on the pool (once the requests being answered are acked, or after
        ACKS_FIRST_SECONDS); Overloaded (nothing started) when it is full."""
        if not self._room.acquire(blocking=False):
            raise Overloaded()
        answering = self.answering

        def after_the_acks() -> T:
            if answering is not None:
                answering.wait_until_acked(ACKS_FIRST_SECONDS)
            return job()

        try:
            future = self._executor.submit(after_the_acks)
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
