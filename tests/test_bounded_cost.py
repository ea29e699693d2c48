"""What anyone can make the bot spend is bounded: the summary on demand is computed once a
minute however often it is asked for, and a full work pool turns requests away at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from bot.runtime.workpool import WorkPool
from tests.harness import CLERK, running_bot, text_of


def test_thirty_summaries_at_once_fetch_the_customer_list_once(bot) -> None:
    bot.sandbox.latency = 0.2  # so that they overlap
    with ThreadPoolExecutor(30) as pool:
        list(pool.map(lambda _: bot.command("summary", user=CLERK), range(30)))
    replies = bot.replies(30)
    assert all("Loyalty summary" in text_of(r) for r in replies)
    assert len(bot.sandbox.calls_to("GET", "/customers")) == 1


def test_a_full_work_pool_says_so_at_once_and_changes_nothing(
    sandbox, sandbox_url, sqlite_url
) -> None:
    stuck = threading.Event()
    pool = WorkPool(1, 0)
    pool.submit(stuck.wait)  # the only thread is busy, and there is no room to queue
    try:
        with running_bot(sandbox, sandbox_url, sqlite_url, work=pool) as bot:
            bot.command("points 1870 10")
            assert "too many requests to work on right now" in text_of(bot.reply())
            bot.command("customer new")  # forms open on the listener thread regardless
            view_id, _ = bot.opened_view()
            answer = bot.answer(view_id, {"first_name": "Rosa"})
            assert "too many requests" in text_of(answer["view"])
            assert [c for c in bot.sandbox.calls if c.method != "GET"] == []
            assert bot.customer_points(1870) == 5 and bot.store.entries() == []
    finally:
        stuck.set()
        pool.shutdown()
