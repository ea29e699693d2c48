"""Posting the daily summary: once per day and channel, from `summary --post` or the clock."""

from __future__ import annotations

import datetime as dt
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from slack_sdk import WebClient

from bot import blocks
from bot.errors import ConfigError
from bot.loyalty_api import LoyaltyClient
from bot.settings import Settings
from bot.store import Store, utcnow
from bot.summary import build_summary, local_day, save_snapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Posted:
    day: str
    channel: str
    ts: str | None
    already: bool = False  # another poster had claimed this day and channel


def summary_channel(settings: Settings, channel: str | None = None) -> str:
    chosen = channel or settings.loyalty_summary_channel
    if not chosen:
        raise ConfigError(
            "LOYALTY_SUMMARY_CHANNEL is not set: put the id of the channel for the daily "
            "summary there (or pass --channel C0123ABCD)."
        )
    return chosen


def post_summary(
    client: WebClient,
    api: LoyaltyClient,
    store: Store,
    settings: Settings,
    channel: str | None = None,
    *,
    force: bool = False,
    now: dt.datetime | None = None,
) -> Posted:
    """Claim (day, channel) in the store, then post. `force` posts even if already done."""
    channel = summary_channel(settings, channel)
    now = now or utcnow()
    day = local_day(now, settings.tz).isoformat()
    claimed = store.claim_summary_post(day, channel)
    if not claimed and not force:
        existing = store.summary_post(day, channel) or {}
        return Posted(day, channel, existing.get("message_ts"), already=True)
    try:
        summary = build_summary(api, store, settings.tz, now)
        response = client.chat_postMessage(
            channel=channel, **blocks.summary_message(summary, settings.tz).kwargs()
        )
    except Exception:  # any failure: free the day for a retry, then re-raise
        if claimed:
            store.release_summary_post(day, channel)  # let a later attempt post it
        raise
    store.summary_posted(day, channel, response["ts"])
    save_snapshot(store, summary)
    return Posted(day, channel, response["ts"])


def due_today(settings: Settings, store: Store, channel: str, now: dt.datetime) -> bool:
    """Past today's summary time, and today's summary not posted yet (a missed one)."""
    local = now.astimezone(settings.tz)
    if local.time() < settings.loyalty_summary_time:
        return False
    return store.summary_post(local.date().isoformat(), channel) is None


def build_scheduler(settings: Settings, job: Callable[[], Any]) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone=settings.tz)
    at = settings.loyalty_summary_time
    scheduler.add_job(
        job,
        CronTrigger(hour=at.hour, minute=at.minute, timezone=settings.tz),
        id="daily-summary",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=3600,
    )
    return scheduler


def run_clock(client: WebClient, api: LoyaltyClient, store: Store, settings: Settings) -> None:
    """The `clock` process: post every day at LOYALTY_SUMMARY_TIME in LOYALTY_TIMEZONE."""
    channel = summary_channel(settings)

    def job() -> None:
        try:
            result = post_summary(client, api, store, settings, channel)
        except Exception:  # logged; the clock keeps running for tomorrow
            log.exception("daily summary failed")
            return
        log.info(
            "daily summary %s for %s in %s",
            "already posted" if result.already else "posted",
            result.day,
            channel,
        )

    if due_today(settings, store, channel, utcnow()):
        log.info("today's summary was missed (the clock was down): posting it now")
        job()
    scheduler = build_scheduler(settings, job)
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
    at = settings.loyalty_summary_time
    log.info(
        "clock running: summary at %s %s to %s",
        at.strftime("%H:%M"),
        settings.loyalty_timezone,
        channel,
    )
    scheduler.start()
