"""Work after an ack waits for the acks being sent (issue 16, item 7), but never long."""

from __future__ import annotations

import threading
from unittest.mock import patch

import pytest

from bot.runtime import workpool
from bot.runtime.workpool import Answering, Overloaded, WorkPool


def test_a_job_starts_once_the_requests_being_answered_are_acked() -> None:
    answering = Answering()
    pool = WorkPool(2, 2, answering=answering)
    seen: list[int] = []
    started = threading.Event()

    def job() -> None:
        seen.append(answering._count)  # requests still being answered when it began
        started.set()

    with answering.request():
        pool.submit(job)
        # Not started while the ack is being sent (a bounded wait for something that
        # must not happen; it would happen at once).
        assert not started.wait(0.2)
    assert started.wait(10) and seen == [0]
    pool.shutdown()


def test_a_job_waits_no_longer_than_its_bound() -> None:
    answering = Answering()
    pool = WorkPool(2, 2, answering=answering)
    done = threading.Event()
    with patch.object(workpool, "ACKS_FIRST_SECONDS", 0.05), answering.request():
        pool.submit(done.set)
        assert done.wait(10)  # while a request is still being answered
    pool.shutdown()


def test_a_full_pool_refuses_at_once() -> None:
    release = threading.Event()
    pool = WorkPool(1, 1)
    pool.submit(lambda: release.wait(10))
    pool.submit(lambda: None)
    with pytest.raises(Overloaded):
        pool.submit(lambda: None)
    release.set()
    pool.shutdown()
