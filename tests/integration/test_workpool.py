"""The work after acks: a bounded pool that refuses at once when full, and whose jobs let
a burst's acks go first (issue 16, item 7) without ever being held back for long."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from unittest.mock import patch

import pytest

from handlers import workpool
from handlers.workpool import BURST_ANSWERING, BURST_ARRIVALS, Answering, Overloaded, WorkPool
from tests.clock import Clock
from tests.harness import wait_until


def test_a_full_pool_refuses_at_once() -> None:
    release = threading.Event()
    pool = WorkPool(1, 1)
    pool.submit(lambda: release.wait(10))
    pool.submit(lambda: None)
    with pytest.raises(Overloaded):
        pool.submit(lambda: None)
    release.set()
    pool.shutdown()


def test_a_job_waits_for_the_acks_of_a_burst() -> None:
    pool = WorkPool(2, 2)
    order: list[str] = []
    with ExitStack() as burst:
        for _ in range(BURST_ANSWERING):
            burst.enter_context(pool.answering.request())
        done = pool.submit(lambda: order.append("job"))
        assert pool.held == 1
        wait_until(lambda: pool.answering.waiting == 1, what="the gate waiting for the acks")
        order.append("acked")
    done.result(timeout=10)
    assert order == ["acked", "job"]
    pool.shutdown()


def test_jobs_held_in_a_burst_wait_in_a_list_not_a_thread_each() -> None:
    """200 held jobs are one waiting thread (the gate), not 200 woken again and again; once
    the burst is over they all run, in the order they came."""
    pool = WorkPool(256, 256)
    done: list[int] = []
    before = threading.active_count()
    with ExitStack() as burst:
        for _ in range(BURST_ANSWERING):
            burst.enter_context(pool.answering.request())
        futures = [pool.submit(lambda i=i: done.append(i)) for i in range(200)]
        assert pool.held == 200
        wait_until(lambda: pool.answering.waiting == 1, what="the gate waiting for the acks")
        assert threading.active_count() <= before + 1  # the gate
        assert done == []
    for future in futures:
        future.result(timeout=10)
    assert sorted(done) == list(range(200)) and pool.held == 0
    pool.shutdown()


def test_a_burst_lasts_through_a_short_dip_in_the_requests_being_answered() -> None:
    """The first acks of a burst go out while the rest still arrive: the moment fewer are
    being answered does not end it; BURST_WINDOW after the last of them arriving does."""
    clock = Clock(100.0)
    answering = Answering(clock)
    with ExitStack() as answered:
        for _ in range(BURST_ANSWERING):
            answered.enter_context(answering.request())
    last_arrival = clock.now
    assert answering._burst_for() == pytest.approx(workpool.BURST_WINDOW)
    clock.now = last_arrival + workpool.BURST_WINDOW / 2
    assert answering.in_burst()
    clock.now = last_arrival + workpool.BURST_WINDOW
    assert not answering.in_burst()


def test_a_shutdown_runs_the_held_jobs() -> None:
    pool = WorkPool(2, 2)
    ran = threading.Event()
    with ExitStack() as burst:
        for _ in range(BURST_ANSWERING):
            burst.enter_context(pool.answering.request())  # still answering at shutdown
        pool.submit(ran.set)
        pool.shutdown(wait=True)
    assert ran.is_set()


def test_a_job_waits_no_longer_than_its_bound() -> None:
    pool = WorkPool(2, 2)
    with patch.object(workpool, "ACKS_FIRST_SECONDS", 0.05), ExitStack() as burst:
        for _ in range(BURST_ANSWERING):
            burst.enter_context(pool.answering.request())  # never answered while it waits
        pool.submit(lambda: None).result(timeout=10)
    pool.shutdown()


def test_what_a_burst_is() -> None:
    """Many requests arriving within BURST_WINDOW, or many being answered at once; a busy
    shop's steady stream (50 a second, each acked in milliseconds) is neither."""
    clock = Clock(100.0)
    answering = Answering(clock)
    for _ in range(150):  # three seconds of 50 a second
        with answering.request():
            assert answering._burst_for() == 0
        clock.now += 0.02
    for _ in range(BURST_ARRIVALS):
        with answering.request():
            pass
    assert answering._burst_for() == pytest.approx(workpool.BURST_WINDOW)
    clock.now += workpool.BURST_WINDOW
    assert answering._burst_for() == 0  # it ended: nothing more arrived
    with ExitStack() as answered:
        for _ in range(BURST_ANSWERING):
            clock.now += 1
            answered.enter_context(answering.request())
        assert answering._burst_for() is None  # over until some are answered
    assert answering._burst_for() == pytest.approx(workpool.BURST_WINDOW)
    clock.now += workpool.BURST_WINDOW
    assert answering._burst_for() == 0


def test_the_server_counts_a_request_from_its_accept_to_its_answer() -> None:
    """`loyalty-bot serve`'s server counts each request as soon as it is accepted (before
    its thread has read it), until it is answered."""
    import httpx

    from bot.runtime.wsgi_server import make_threaded_server

    answering = Answering()
    inside, release = threading.Event(), threading.Event()

    def app(environ, start_response):
        inside.set()
        release.wait(10)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    server = make_threaded_server(app, "127.0.0.1", 0)
    server.answering = answering
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}).start()
    try:
        with ThreadPoolExecutor(1) as client:
            answer = client.submit(httpx.get, f"http://127.0.0.1:{server.server_port}/")
            assert inside.wait(10) and answering._count == 1
            release.set()
            assert answer.result(10).text == "ok"
        wait_until(lambda: answering._count == 0, what="the request counted as answered")
    finally:
        server.shutdown()
        server.server_close()
