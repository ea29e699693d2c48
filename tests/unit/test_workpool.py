"""The work after acks: a bounded pool that refuses at once when full."""

from __future__ import annotations

import threading

import pytest

from bot.runtime.workpool import Overloaded, WorkPool


def test_a_full_pool_refuses_at_once() -> None:
    release = threading.Event()
    pool = WorkPool(1, 1)
    pool.submit(lambda: release.wait(10))
    pool.submit(lambda: None)
    with pytest.raises(Overloaded):
        pool.submit(lambda: None)
    release.set()
    pool.shutdown()
