"""The threads that do the work after an ack, with room for a bounded number of jobs.

Bolt's listener threads only check and ack; Loyalty API work runs here. When every
thread is busy and the queue is full, `submit` refuses at once (the person is told the
bot is busy), so a flood of requests cannot grow the process without limit.

Acks go first. Every thread shares one interpreter, so in a burst of 200 commands the
first jobs' work (lookups, API requests, replies) would make the last acks wait for it.
So during a burst (many requests being answered at once, or arriving within a few
milliseconds: the web app counts them, `Answering`) jobs are held until the burst ends,
ACKS_FIRST_SECONDS at most: in a list, released by one gate thread (a thread waiting per
job, woken again and again, took the burst's CPU itself). A busy shop's steady stream is
no burst: its work never waits. A stream faster than BURST_ARRIVALS in BURST_WINDOW, or
one whose acks overlap BURST_ANSWERING at a time, is: its work is held in turns, which
caps one process near that rate (bench_changes' closed loop meets it; without the gate
it goes further, and bench_ack's bursts fail). Kept because bench_ack's bursts measure
the bot's acks against a bare Bolt app in the same run; bench_wait checks that a steady
stream is not held back.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from bot.domain.errors import LoyaltyError
from bot.domain.say import Say

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
# (a busy shop's steady 50 commands a second is neither). It lasts until BURST_WINDOW
# after the last request that arrived as part of it: the short gaps inside a burst (the
# first acks sent while the rest are still connecting) do not end it.
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
        self._burst_until = float("-inf")
        self.waiting = 0  # waiting for a burst to end (the work pool's gate)

    def arrived(self) -> None:
        with self._changed:
            now = self._clock()
            self._count += 1
            arrivals = self._arrivals
            arrivals.append(now)
            if self._count >= BURST_ANSWERING or (
                len(arrivals) == BURST_ARRIVALS and now - arrivals[0] < BURST_WINDOW
            ):
                self._burst_until = now + BURST_WINDOW

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
        return max(0.0, self._burst_until - self._clock())

    def in_burst(self) -> bool:
        with self._changed:
            return self._burst_for() != 0

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
        # Jobs held while a burst is acked, oldest first: a list, not a thread each (200
        # waiting threads woken over and over would take the burst's CPU themselves).
        self._held: deque[tuple[float, Callable[[], None]]] = deque()
        self._holding = threading.Lock()
        self._gate: threading.Thread | None = None
        self._closed = False

    @property
    def held(self) -> int:
        """Jobs waiting for a burst's acks."""
        return len(self._held)

    def submit(self, job: Callable[[], T]) -> Future[T]:
        """Run `job` on the pool once the acks are sent (see above);
        Overloaded (nothing started) when it is full."""
        if not self._room.acquire(blocking=False):
            raise Overloaded()
        future: Future[T] = Future()

        def run() -> None:
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        result = job()
                    except BaseException as exc:
                        future.set_exception(exc)
                    else:
                        future.set_result(result)
            finally:
                self._room.release()

        try:
            if not self._hold(run):
                self._executor.submit(run)
        except BaseException:
            self._room.release()
            raise
        return future

    def _hold(self, run: Callable[[], None]) -> bool:
        """Hold `run` for the burst being acked, if there is one (False: there is none)."""
        with self._holding:
            if self._closed or (not self._held and not self.answering.in_burst()):
                return False
            self._held.append((time.monotonic() + ACKS_FIRST_SECONDS, run))
            if self._gate is None:
                self._gate = threading.Thread(target=self._release, name="work-gate", daemon=True)
                self._gate.start()
        return True

    def _release(self) -> None:
        """The gate: the held jobs go to the threads once the burst is over (or the oldest
        has waited ACKS_FIRST_SECONDS)."""
        while True:
            with self._holding:
                if not self._held:
                    self._gate = None
                    return
                oldest = self._held[0][0]
            self.answering.after_the_burst(max(0.0, oldest - time.monotonic()))
            with self._holding:
                held, self._held = self._held, deque()
            for _, run in held:
                try:
                    self._executor.submit(run)
                except RuntimeError:  # shut down meanwhile: done here, not lost
                    run()

    def has_room(self) -> bool:
        if self._room.acquire(blocking=False):
            self._room.release()
            return True
        return False

    def shutdown(self, wait: bool = True) -> None:
        """Start the held jobs now (they are not lost), then stop."""
        with self._holding:
            self._closed = True
            held, self._held = self._held, deque()
        for _, run in held:
            self._executor.submit(run)
        self._executor.shutdown(wait=wait)
