"""The serving process's minute sweep (settling pending changes, refreshing Slack tokens)
outlives a failure: one sweep that raises (the database away) does not stop the next."""

from __future__ import annotations

import logging
import threading

from bot.runtime.app import Running


def test_a_sweep_that_fails_does_not_stop_the_next(caplog) -> None:
    running = Running(None, None, None, None, None)  # type: ignore[arg-type]
    sweeps: list[int] = []
    again = threading.Event()

    def reconcile() -> None:
        sweeps.append(1)
        if len(sweeps) == 1:
            raise ConnectionError("the database is away")
        again.set()

    running.reconcile = reconcile  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="bot.runtime.app"):
        running.start_reconciling(every=0.001)
        try:
            assert again.wait(10), "no sweep after the one that failed"
        finally:
            running.stopping.set()
    assert "the minute sweep failed" in caplog.text
