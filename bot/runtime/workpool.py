"""The threads that do the work after an ack, with room for a bounded number of jobs.

Bolt's listener threads only check and ack; Loyalty API work runs here. When every
thread is busy and the queue is full, `submit` refuses at once (the person is told the
bot is busy), so a flood of requests cannot grow the process without limit.

Acks go first. Every thread shares one interpreter, so in a burst of 200 commands the
first jobs' work (lookups, API requests, replies) would make the last acks wait for it
(three to five times longer than a bare Bolt app's). So during a burst (many requests
being answered at once, or arriving within a few milliseconds: the web app counts them,
`Answering`) a job waits for the burst to end, ACKS_FIRST_SECONDS at most. A busy shop's
steady stream is no burst: its work never waits.
"""

from __future__ import annotations

import threading
import time
from collections import deque
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


# A burst: this many requests being answered at once, or arriving within BURST_WINDOW
# (a busy shop's steady 50 commands a second is neither).
BURST_ANSWERING = 4
BURST_ARRIVALS = 20
BURST_WINDOW = 0.2
ACKS_FIRST_SECONDS = 1.0  # the longest a job waits for a burst's acks


class Answering:
    """The Slack requests being answered right now (the web app counts them)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._changed = threading.Condition()
        self._count = 0
        self._arrivals: deque[float] = deque(maxlen=BURST_ARRIVALS)  # the latest
        self.waiting = 0  # jobs waiting for a burst to end

    def arrived(self) -> None:
        with self._changed:
            self._count += 1
            self._arrivals.append(self._clock())

    def answered(self) -> None:
        with self._changed:
            self._count -= 1
            if self._count == BURST_ANSWERING - 1:
                self._changed.notify_all()

    @contextmanager
    def request(self) -> Iterator[None]:
        self.arrived()
        try:
            yield
        finally:
            self.answered()

    def _burst_for(self) -> float | None:
        """How long the burst lasts if nothing else arrives (0: there is none); None
        while too many requests are being answered."""
        if self._count >= BURST_ANSWERING:
            return None
        arrivals = self._arrivals
        if len(arrivals) < BURST_ARRIVALS:
            return 0.0
        return max(0.0, arrivals[0] + BURST_WINDOW - self._clock())

    def after_the_burst(self, most: float) -> None:
        """Wait until there is no burst of requests (at most `most` seconds)."""
        deadline = self._clock() + most
        with self._changed:
            self.waiting += 1
            try:
                while (lasts := self._burst_for()) != 0:
                    left = deadline - self._clock()
                    if left <= 0:
                        return
                    self._changed.wait(left if lasts is None else min(left, lasts))
            finally:
                self.waiting -= 1


class WorkPool:
    def __init__(self, threads: int, queued: int, *, executor: Executor | None = None) -> None:
        self._executor = executor or ThreadPoolExecutor(threads, thread_name_prefix="work")
        self._room = threading.BoundedSemaphore(threads + queued)
        self.answering = Answering()  # counted by the web app (bot.runtime.app.web_app)

    def submit(self, job: Callable[[], T]) -> Future[T]:
        """Run `job` on the pool once the acks are sent (see above);
        Overloaded (nothing started) when it is full."""
        if not self._room.acquire(blocking=False):
            raise Overloaded()
        answering = self.answering

        def after_the_acks() -> T:
            answering.after_the_burst(ACKS_FIRST_SECONDS)
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
