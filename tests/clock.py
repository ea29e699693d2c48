"""The one test clock: it says `now`, and the test moves it. Time in tests is what the test
sets, never the wall clock."""

from __future__ import annotations

import datetime as dt
from typing import Generic, TypeVar

T = TypeVar("T", dt.datetime, float)


class Clock(Generic[T]):
    """Called, it returns `now` (a datetime, or monotonic seconds: whichever the code under
    test reads); `advance` moves it on."""

    def __init__(self, now: T) -> None:
        self.now = now

    def __call__(self) -> T:
        return self.now

    def advance(self, seconds: float) -> None:
        if isinstance(self.now, dt.datetime):
            self.now = self.now + dt.timedelta(seconds=seconds)
        else:
            self.now = self.now + seconds
