"""The daily summary's posting, through the Slack stand-in over HTTP, and summaries asked for at once."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from slack_sdk import WebClient

from bot.core.summary import SharedSummary, build_summary
from bot.jobs.summary import post_summary
from bot.store.database import Store
from tests.faults import Gate, read_only
from tests.harness import BOT_TOKEN, wait_until
from tests.unit import test_summary as unit

# The unit module's fixtures and helpers, shared.
NOW = unit.NOW
UTC = unit.UTC
_settings = unit._settings
slack = unit.slack
store = unit.store


def test_once_per_day_under_concurrent_posters(client, store_url, slack) -> None:
    settings = _settings(loyalty_summary_channel="CSUM", database_url=store_url)
    web = WebClient(token=BOT_TOKEN, base_url=slack.base_url + "/api/")
    stores = [Store.from_url(store_url) for _ in range(4)]
    results = []
    barrier = threading.Barrier(4)

    def poster(s: Store) -> None:
        barrier.wait()
        results.append(post_summary(web, client, s, settings, now=NOW))

    threads = [threading.Thread(target=poster, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert sorted(r.already for r in results) == [False, True, True, True]
    again = post_summary(web, client, stores[0], settings, now=NOW + dt.timedelta(hours=3))
    assert again.already and len(slack.calls_to("chat.postMessage")) == 1
    forced = post_summary(web, client, stores[0], settings, now=NOW, force=True)
    assert not forced.already and len(slack.calls_to("chat.postMessage")) == 2
    tomorrow = post_summary(web, client, stores[0], settings, now=NOW + dt.timedelta(days=1))
    assert not tomorrow.already and len(slack.calls_to("chat.postMessage")) == 3


def test_failed_post_releases_the_day(client, store, slack) -> None:
    settings = _settings(loyalty_summary_channel="CSUM")
    web = WebClient(token=BOT_TOKEN, base_url=slack.base_url + "/api/")
    slack.failing["chat.postMessage"] = "not_in_channel"
    with pytest.raises(Exception, match="not_in_channel"):
        post_summary(web, client, store, settings, now=NOW)
    slack.failing.clear()
    assert not post_summary(web, client, store, settings, now=NOW).already


def test_the_day_is_the_local_day(client, store, slack) -> None:
    web = WebClient(token=BOT_TOKEN, base_url=slack.base_url + "/api/")
    mexico = _settings(loyalty_summary_channel="CSUM", loyalty_timezone="America/Mexico_City")
    late_utc = dt.datetime(2026, 11, 26, 0, 30, tzinfo=UTC)  # 18:30 on the 25th in Mexico
    assert post_summary(web, client, store, mexico, now=late_utc).day == "2026-11-25"
    assert post_summary(web, client, store, mexico, now=NOW).already  # same local day
    tokyo = _settings(loyalty_summary_channel="CTOKYO", loyalty_timezone="Asia/Tokyo")
    assert post_summary(web, client, store, tokyo, now=NOW).day == "2026-11-26"


def test_clock_posts_when_due_once_and_after_downtime(client, store, slack) -> None:
    from bot.jobs.summary import SummaryClock

    settings = _settings(loyalty_summary_channel="CSUM", loyalty_summary_time="09:00")
    web = WebClient(token=BOT_TOKEN, base_url=slack.base_url + "/api/")
    clock = SummaryClock(web, client, store, settings)
    assert clock.tick(NOW.replace(hour=8, minute=59)) is None  # not yet
    assert slack.calls_to("chat.postMessage") == []
    posted = clock.tick(NOW.replace(hour=11))  # the clock was down at 09:00: it catches up
    assert posted is not None and not posted.already
    restarted = SummaryClock(web, client, store, settings)  # a restart the same day
    assert restarted.tick(NOW.replace(hour=11, minute=1)) is None
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_a_claim_whose_poster_died_is_taken_over_after_two_minutes(client, store, slack) -> None:
    from bot.jobs.summary import SummaryClock

    settings = _settings(loyalty_summary_channel="CSUM", loyalty_summary_time="09:00")
    web = WebClient(token=BOT_TOKEN, base_url=slack.base_url + "/api/")
    claimed_at = NOW  # a poster claimed the day, then died before posting
    day = claimed_at.date().isoformat()
    assert store.claim_summary_post(day, "CSUM", now=claimed_at)
    clock = SummaryClock(web, client, store, settings)
    soon = claimed_at + dt.timedelta(seconds=90)
    assert clock.tick(soon).already  # it may still be posting: leave it
    assert slack.calls_to("chat.postMessage") == []
    later = claimed_at + dt.timedelta(minutes=2, seconds=5)
    posted = clock.tick(later)
    assert posted is not None and not posted.already and posted.ts
    assert store.summary_post(day, "CSUM")["message_ts"] == posted.ts
    assert clock.tick(later + dt.timedelta(minutes=1)) is None  # posted: no longer due
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_a_summary_posted_but_not_recorded_is_recorded_later_never_posted_again(
    client, store, slack, monkeypatch
) -> None:
    from bot.jobs import summary as job

    monkeypatch.setattr(job, "RECORD_WAITS_SECONDS", ())  # its attempts, without the waits
    settings = _settings(loyalty_summary_channel="CSUM", loyalty_summary_time="09:00")
    web = WebClient(token=BOT_TOKEN, base_url=slack.base_url + "/api/")
    clock = job.SummaryClock(web, client, store, settings)
    day = NOW.date().isoformat()
    slack.holds["chat.postMessage"] = posting = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        ticked = pool.submit(clock.tick, NOW.replace(hour=9))
        wait_until(lambda: store.summary_post(day, "CSUM"), what="the day's claim")
        with read_only(store.engine):  # the database stops taking writes mid-post
            posting.set()
            assert ticked.result(timeout=10) is None
            (message,) = slack.messages
            assert clock.tick(NOW.replace(hour=9, minute=1)) is None  # still not recorded
    assert store.summary_post(day, "CSUM")["message_ts"] is None
    later = NOW.replace(hour=9, minute=15)  # past the takeover and the retry after a failure
    recorded = clock.tick(later)
    assert recorded is not None and recorded.ts == message.ts
    assert store.summary_post(day, "CSUM")["message_ts"] == message.ts
    tomorrow = (NOW + dt.timedelta(days=1)).date().isoformat()
    assert store.snapshot_before(tomorrow) is not None  # what follows the record, done too
    assert clock.tick(later + dt.timedelta(minutes=1)) is None
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_thirty_summaries_at_once_fetch_the_customer_list_once(client, store, sandbox) -> None:
    """What anyone can make the bot spend is bounded: `/loyalty summary` on demand is
    computed once however often it is asked for meanwhile."""
    shared = SharedSummary(lambda: build_summary(client, store, UTC, NOW))
    gate = Gate(sandbox, "GET", "/customers")  # the first computation is under way...
    with ThreadPoolExecutor(30) as pool:
        asked = [pool.submit(shared.get) for _ in range(30)]
        assert gate.entered.wait(10)
        gate.release()  # ... and every request waits for that same one
        summaries = [a.result(timeout=10) for a in asked]
    assert len({id(s) for s in summaries}) == 1
    assert len(sandbox.calls_to("GET", "/customers")) == 1
