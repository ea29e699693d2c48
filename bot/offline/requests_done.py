"""Knowing when the bot has finished a request, offline: it writes one request log line
(`handlers.requestlog`) when a request's work has all ended, the listener's and what it
deferred. The console and the tests count those lines instead of waiting a fixed time."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

REQUESTS_LOGGER = "loyalty.requests"


class RequestsDone(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0
        self._changed = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "event", "") == "request":
            with self._changed:
                self.count += 1
                self._changed.notify_all()

    def wait_for(self, count: int, timeout: float) -> bool:
        """True once `count` requests have finished; False after `timeout` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: self.count >= count, timeout)


@contextmanager
def counting_requests(*, quiet: bool = False) -> Iterator[RequestsDone]:
    """Count the bot's finished requests while the block runs (the request log is turned
    on for it). With `quiet`, the lines go to the counter only, not to the log's output
    (the console's transcript is its output)."""
    done = RequestsDone()
    logger = logging.getLogger(REQUESTS_LOGGER)
    level, propagate = logger.level, logger.propagate
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    logger.propagate = propagate and not quiet
    logger.addHandler(done)
    try:
        yield done
    finally:
        logger.removeHandler(done)
        logger.setLevel(level)
        logger.propagate = propagate
