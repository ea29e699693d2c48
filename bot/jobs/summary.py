"""Posting the daily summary: once per day and channel, from `summary --post` or the clock.

The figures are built before the day is claimed, so a poster that dies while building
leaves nothing behind. A claim that never got its message (its poster died between
claiming and posting) is taken over after `TAKEOVER_AFTER`. A message posted whose record
cannot be written (the database busy or gone) is never posted again by that poster: it
keeps the message (`PostedNotRecorded`) and records it once the database answers.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot.core.service import LoyaltyService
from bot.core.summary import Summary, build_summary, local_day, save_snapshot
from bot.core.verify import remember
from bot.domain.audit import as_utc, utcnow
from bot.domain.errors import ConfigError, LoyaltyError
from bot.domain.settings import Settings
from bot.i18n import speaking
from bot.jobs.charts import ChartQueue
from bot.slack import blocks
from bot.slack.chart import share_chart
from bot.smartpasses.client import LoyaltyClient
from bot.store.database import Store
from bot.store.workspaces import WorkspaceRecords

log = logging.getLogger(__name__)


CHARTS = ChartQueue()

TAKEOVER_AFTER = dt.timedelta(minutes=2)
CLOCK_TICK = dt.timedelta(minutes=1)
RETRY_AFTER_FAILURE = dt.timedelta(minutes=10)
POSTING_THREADS = 16  # summaries built and posted at once (OAuth mode: many workspaces)
# Between attempts to record a message just posted (a busy SQLite file frees in seconds);
# after the last, the poster keeps it and records it on its next rounds.
RECORD_WAITS_SECONDS = (0.5, 1.0, 2.0, 4.0)


@dataclass(frozen=True)
class Posted:
    day: str
    channel: str
    ts: str | None
    already: bool = False  # posted before, or another poster is posting it right now


@dataclass(frozen=True)
class Unrecorded:
    """A summary posted to Slack whose record is not written yet."""

    posted: Posted
    summary: Summary
    at: dt.datetime


class PostedNotRecorded(Exception):
    """The summary is in the channel, but the store did not take its record: posting it
    again would post it twice. Record it later (`record_posted`)."""

    def __init__(self, unrecorded: Unrecorded) -> None:
        super().__init__(f"posted {unrecorded.posted.ts}, not recorded")
        self.unrecorded = unrecorded


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
    charts: ChartQueue | None = None,
) -> Posted:
    """Build the figures, claim (day, channel) in the store, then post. `force` posts
    even if already done. The chart follows the summary: drawn here, or on `charts` (the
    clocks: a thousand workspaces' summaries are not held up by a thousand drawings)."""
    channel = summary_channel(settings, channel)
    now = now or utcnow()
    day = local_day(now, settings.tz).isoformat()
    if not force and (existing := _claimed(store, day, channel, now)) is not None:
        return existing
    summary = build_summary(api, store, settings.tz, now)
    with speaking(settings.loyalty_language):  # a channel post: the workspace's language
        message = blocks.summary_message(summary, settings.tz)
    claimed = store.claim_summary_post(day, channel, stale_before=now - TAKEOVER_AFTER, now=now)
    if not claimed and not force:
        return _claimed(store, day, channel, now) or Posted(day, channel, None, already=True)
    try:
        response = client.chat_postMessage(channel=channel, **message.kwargs())
    except Exception:  # any failure: free the day for a retry, then re-raise
        if claimed:
            store.release_summary_post(day, channel)  # let a later attempt post it
        raise
    posted = Posted(day, channel, response["ts"])
    if charts is None:
        _share_chart(client, settings, channel, summary)
    else:
        charts.submit(_share_chart, client, settings, channel, summary)
    record_posted(client, store, settings, Unrecorded(posted, summary, now), RECORD_WAITS_SECONDS)
    return posted


def record_posted(
    client: WebClient,
    store: Store,
    settings: Settings,
    unrecorded: Unrecorded,
    waits: tuple[float, ...] = (),
) -> None:
    """Record a posted summary (trying again after each of `waits`), then what follows it:
    the day's snapshot, the balances to flag, the differences told. PostedNotRecorded if
    the record could not be written."""
    posted = unrecorded.posted
    assert posted.ts is not None
    for wait in (*waits, None):
        try:
            store.summary_posted(posted.day, posted.channel, posted.ts)
            break
        except Exception as exc:  # the store's own error, whichever database
            if wait is None:
                raise PostedNotRecorded(unrecorded) from exc
            log.warning("the posted summary is not recorded yet (%s)", type(exc).__name__)
            time.sleep(wait)
    summary = unrecorded.summary
    save_snapshot(store, summary)
    _raise_flagged(client, store, settings, summary)
    remember(store, summary.outside, unrecorded.at)  # reported: each difference is told once


def _share_chart(client: WebClient, settings: Settings, channel: str, summary: Summary) -> None:
    """The chart of the last two weeks, right after the summary it belongs to; the summary
    stands without it if it cannot be drawn or shared."""
    try:
        with speaking(settings.loyalty_language):
            share_chart(client, channel, summary.chart)
    except (LoyaltyError, SlackClientError, OSError, httpx.HTTPError) as exc:  # and drawing
        log.warning("the summary was posted without its chart: %s", exc)


def _raise_flagged(client: WebClient, store: Store, settings: Settings, summary: Summary) -> None:
    """Balances that moved on records the bot changed while fenced or unknown: to the
    audit channel, once each (the summary counts them)."""
    channel = settings.loyalty_audit_channel
    if not channel:
        return
    for difference in summary.outside.flagged:
        if not store.claim_once(f"outside:{difference.customer_id}:{difference.live}"):
            continue
        with speaking(settings.loyalty_language):
            message = blocks.outside_flagged(difference)
        try:
            client.chat_postMessage(channel=channel, **message.kwargs())
        except (SlackClientError, OSError) as exc:  # the posted summary still counts it
            log.warning("could not flag customer %d: %s", difference.customer_id, exc)


def _claimed(store: Store, day: str, channel: str, now: dt.datetime) -> Posted | None:
    """The day's post, if it was posted or is being posted by a live poster."""
    existing = store.summary_post(day, channel)
    if existing is None:
        return None
    claimed_at = as_utc(existing["claimed_at"])
    if existing["message_ts"] or (claimed_at is not None and claimed_at >= now - TAKEOVER_AFTER):
        return Posted(day, channel, existing["message_ts"], already=True)
    return None  # a claim whose poster died: take it over


def due_today(settings: Settings, store: Store, channel: str, now: dt.datetime) -> bool:
    """Past today's summary time, and today's summary not posted yet."""
    local = now.astimezone(settings.tz)
    if local.time() < settings.loyalty_summary_time:
        return False
    posted = store.summary_post(local.date().isoformat(), channel)
    return posted is None or not posted["message_ts"]


def build_scheduler(settings: Settings, job: Callable[[], Any]) -> BlockingScheduler:
    """One job every minute: it posts when today's summary is due (at the summary time,
    after downtime, or when a poster died mid-way) and does nothing otherwise."""
    scheduler = BlockingScheduler(timezone=settings.tz)
    scheduler.add_job(
        job,
        IntervalTrigger(seconds=CLOCK_TICK.total_seconds(), timezone=settings.tz),
        id="daily-summary",
        coalesce=True,
        max_instances=1,
        next_run_time=dt.datetime.now(settings.tz),
    )
    return scheduler


class SummaryClock:
    """What the `clock` process does every minute: post today's summary if it is due."""

    def __init__(
        self, client: WebClient, api: LoyaltyClient, store: Store, settings: Settings
    ) -> None:
        self.client, self.api, self.store, self.settings = client, api, store, settings
        self.channel = summary_channel(settings)
        self.failed_at: dt.datetime | None = None
        self.unrecorded: Unrecorded | None = None  # posted; recorded on the next ticks

    def tick(self, now: dt.datetime | None = None) -> Posted | None:
        """The post made (or found made) when due, or a post recorded late; None when not
        due or it failed."""
        now = now or utcnow()
        if (unrecorded := self.unrecorded) is not None:
            if not _recorded_late(self.client, self.store, self.settings, unrecorded):
                return None
            self.unrecorded = None
            return unrecorded.posted
        if not due_today(self.settings, self.store, self.channel, now):
            return None
        if self.failed_at is not None and now - self.failed_at < RETRY_AFTER_FAILURE:
            return None
        try:
            result = post_summary(
                self.client,
                self.api,
                self.store,
                self.settings,
                self.channel,
                now=now,
                charts=CHARTS,
            )
        except PostedNotRecorded as exc:  # never posted again: recorded on the next ticks
            self.unrecorded = exc.unrecorded
            _log_unrecorded(exc.unrecorded, "")
            return None
        except Exception:  # logged; the clock tries again later, and keeps running
            self.failed_at = now
            log.exception("daily summary failed; trying again in 10 minutes")
            return None
        self.failed_at = None
        if not result.already:
            log.info("daily summary posted for %s in %s", result.day, self.channel)
        return result


def _log_unrecorded(unrecorded: Unrecorded, team_id: str) -> None:
    posted = unrecorded.posted
    log.error(
        "daily summary for %s posted in %s%s but the database did not record it: "
        "recording it every minute until it does (it is not posted again)",
        posted.day,
        posted.channel,
        f" ({team_id})" if team_id else "",
    )


def _recorded_late(
    client: WebClient, store: Store, settings: Settings, unrecorded: Unrecorded
) -> bool:
    """Record a summary posted earlier; True once recorded (what follows the record may
    have failed meanwhile: logged, and not tried again)."""
    try:
        record_posted(client, store, settings, unrecorded)
    except PostedNotRecorded:
        return False
    except Exception:
        log.exception("the daily summary is recorded; what follows it failed")
    log.info("daily summary for %s recorded late", unrecorded.posted.day)
    return True


class _Served(Protocol):
    @property
    def service(self) -> LoyaltyService: ...
    @property
    def settings(self) -> Settings: ...


class _Clients(Protocol):
    def client(self, team_id: str) -> WebClient | None: ...


class Workspaces(Protocol):
    """What the clock uses of the workspaces (bot.runtime.tenants.Workspaces)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def store(self) -> Store: ...
    @property
    def records(self) -> WorkspaceRecords: ...
    @property
    def clients(self) -> _Clients: ...
    def services_for(self, team_id: str) -> _Served | None: ...


class EveryWorkspaceClock:
    """The clock installed in any workspace (OAuth mode): every minute, each connected
    workspace with a summary channel gets its summary at its own time, in its own zone and
    language, once (the (workspace, day, channel) claim); an hour after an uninstall's
    retention ends, its records are purged."""

    def __init__(self, workspaces: Workspaces, *, threads: int = POSTING_THREADS) -> None:
        self.workspaces = workspaces
        self.threads = threads
        self.failed_at: dict[str, dt.datetime] = {}
        self.unrecorded: dict[str, Unrecorded] = {}  # posted; recorded on the next ticks
        self.purged_at: dt.datetime | None = None

    def tick(self, now: dt.datetime | None = None) -> list[Posted]:
        now = now or utcnow()
        self.purge(now)
        late = [p for team in list(self.unrecorded) if (p := self._record_late(team))]
        due = []
        for workspace in self.workspaces.records.connected():
            if workspace.team_id in self.unrecorded:
                continue
            settings = self.workspaces.settings.for_workspace(
                workspace.settings, workspace.program_id
            )
            channel = settings.loyalty_summary_channel
            failed = self.failed_at.get(workspace.team_id)
            if not channel or (failed is not None and now - failed < RETRY_AFTER_FAILURE):
                continue
            store = self.workspaces.store.for_workspace(workspace.team_id)
            if due_today(settings, store, channel, now):
                due.append(workspace.team_id)
        if not due:
            return late
        with ThreadPoolExecutor(min(self.threads, len(due)), "summary") as pool:
            posts = list(pool.map(lambda team: self._post(team, now), due))
        return late + [p for p in posts if p is not None]

    def _record_late(self, team_id: str) -> Posted | None:
        unrecorded = self.unrecorded[team_id]
        services = self.workspaces.services_for(team_id)
        client = self.workspaces.clients.client(team_id)
        if services is None or client is None:  # uninstalled since: nothing to record for
            del self.unrecorded[team_id]
            return None
        store = services.service.store
        if not _recorded_late(client, store, services.settings, unrecorded):
            return None
        del self.unrecorded[team_id]
        return unrecorded.posted

    def _post(self, team_id: str, now: dt.datetime) -> Posted | None:
        try:
            services = self.workspaces.services_for(team_id)
            client = self.workspaces.clients.client(team_id)
            if services is None or client is None:
                return None  # uninstalled or disconnected since the list was read
            service = services.service
            result = post_summary(
                client, service.api, service.store, services.settings, now=now, charts=CHARTS
            )
        except PostedNotRecorded as exc:  # never posted again: recorded on the next ticks
            self.unrecorded[team_id] = exc.unrecorded
            _log_unrecorded(exc.unrecorded, team_id)
            return None
        except Exception:  # logged; this workspace is tried again later, the others go on
            self.failed_at[team_id] = now
            log.exception("daily summary of workspace %s failed; trying again later", team_id)
            return None
        self.failed_at.pop(team_id, None)
        if not result.already:
            log.info("daily summary posted for %s in %s (%s)", result.day, result.channel, team_id)
        return result

    def purge(self, now: dt.datetime) -> list[str]:
        """Records of workspaces uninstalled longer ago than the retention, once an hour."""
        if self.purged_at is not None and now - self.purged_at < dt.timedelta(hours=1):
            return []
        self.purged_at = now
        days = self.workspaces.settings.loyalty_audit_retention_days
        gone = self.workspaces.records.purge_uninstalled(now - dt.timedelta(days=days))
        for team_id in gone:
            log.info("purged the records of workspace %s (uninstalled over %d days)", team_id, days)
        return gone


def run_every_workspace_clock(workspaces: Workspaces) -> None:
    clock = EveryWorkspaceClock(workspaces)
    scheduler = build_scheduler(workspaces.settings, clock.tick)
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
    log.info("clock running: each workspace's summary at its own time")
    scheduler.start()


def run_clock(client: WebClient, api: LoyaltyClient, store: Store, settings: Settings) -> None:
    """The `clock` process: post every day at the summary time in the shop's time zone."""
    clock = SummaryClock(client, api, store, settings)
    scheduler = build_scheduler(settings, clock.tick)
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
    at = settings.loyalty_summary_time
    log.info(
        "clock running: summary at %s %s to %s",
        at.strftime("%H:%M"),
        settings.loyalty_timezone,
        clock.channel,
    )
    scheduler.start()
