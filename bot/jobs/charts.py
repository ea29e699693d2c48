"""The daily summary's charts, drawn after the summaries they follow."""

from __future__ import annotations

import functools
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class ChartQueue:
    """The clocks' charts, drawn one at a time after the summaries they follow (each
    drawing is a short-lived process of its own: bot.slack.chart), on a daemon thread: a
    clock that stops does not wait for the charts still queued (their summaries are
    posted; the charts are only skipped, and said so in the log)."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._started = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, draw: Callable[..., None], *args: Any) -> None:
        self._queue.put(functools.partial(draw, *args))
        with self._started:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="summary-chart", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            draw = self._queue.get()
            try:
                draw()
            except Exception:  # one chart's bug never stops the next ones
                log.exception("a summary chart failed")
