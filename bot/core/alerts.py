"""Alerts for managers: points given far beyond the usual, told once.

Two checks run after every points change that stands (thresholds: AlertThresholds):
- a person's points added today (in the shop's time zone) are over `factor` times their
  usual, the 95th percentile of their daily totals over the 28 days before (days with
  nothing count as 0), and over `daily_floor`;
- one customer has gained more than `customer_hourly` points in the last hour.
Each is claimed in the store before it is told (`alert:person:<user>:<day>`,
`alert:customer:<id>:<day>`), so no alert is sent twice, whichever process sees it first;
a process that knows an alert was told looks no further for it that day. Both checks
start with one query (the person's points today, the customer's in the last hour). The
person's limit needs their usual day, read once a day per person; only a sum over its
limit reads the entries to list.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from bot.core.base import ServiceBase
from bot.domain.audit import GIVING_ACTIONS, Action, AuditEntry, Outcome, Target

USUAL_DAYS = 28
HOUR = dt.timedelta(hours=1)
MOST_ENTRIES = 10  # listed with an Undo button each; the newest


@dataclass(frozen=True)
class Alert:
    kind: str  # "person" or "customer"
    total: int  # points given today by the person, or gained in the hour by the customer
    limit: int  # the figure it went over
    entries: list[AuditEntry] = field(default_factory=list)  # the changes, newest first
    user_id: str = ""  # the person
    usual: int = 0  # their 28-day daily 95th percentile
    customer_id: int | None = None
    customer_name: str = ""


def percentile_95(values: list[int]) -> int:
    """The nearest-rank 95th percentile (0 for no values)."""
    if not values:
        return 0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


class Alerts(ServiceBase):
    def alerts_after(self, entry: AuditEntry | None) -> list[Alert]:
        """What this change makes worth telling the managers, each claimed once."""
        if entry is None or entry.outcome != Outcome.OK or (entry.delta or 0) <= 0:
            return []
        if entry.action not in (*GIVING_ACTIONS, Action.POINTS_SET):
            return []
        thresholds = self.alert_thresholds
        now = self._clock()
        midnight = dt.datetime.combine(now.astimezone(self.tz).date(), dt.time(), self.tz)
        day = midnight.date().isoformat()
        person = f"alert:person:{entry.user_id}:{day}"
        customer = f"alert:customer:{entry.target_id}:{day}"
        by_person = bool(thresholds.daily_floor) and person not in self._alerted
        to_customer = (
            bool(thresholds.customer_hourly)
            and entry.target_id is not None
            and customer not in self._alerted
        )
        # The usual case costs one query: today's points by the person and the customer's
        # last hour, both under their limits.
        given = gained = 0
        if by_person and to_customer:
            assert entry.target_id is not None
            given, gained = self.store.points_given_both(
                entry.user_id, midnight, entry.target_id, now - HOUR
            )
        elif by_person:
            given = self.store.points_given_since(midnight, user_id=entry.user_id)
        elif to_customer:
            gained = self.store.points_given_since(now - HOUR, customer_id=entry.target_id)
        found = []
        if by_person and given > thresholds.daily_floor:
            found.append((person, self._person(entry, midnight, given)))
        if to_customer and gained > thresholds.customer_hourly:
            found.append((customer, self._customer(entry, now - HOUR)))
        told = []
        for key, alert in found:
            if alert is None:
                continue
            if self.store.claim_once(key):
                told.append(alert)
            self._alerted.add(key)  # told now or by another process: not looked at again
        return told

    @functools.cached_property
    def _alerted(self) -> set[str]:
        """The alerts this process knows were told (their one-time keys)."""
        return set()

    def _person(self, entry: AuditEntry, midnight: dt.datetime, given: int) -> Alert | None:
        """The person's alert, when `given` (their points today) is over their limit:
        the floor, or `factor` times their usual day if that is higher."""
        thresholds = self.alert_thresholds
        usual = self._usual(entry.user_id, midnight)
        limit = max(thresholds.daily_floor, math.floor(thresholds.factor * usual))
        if given <= limit:
            return None
        gains = self._gains(midnight, user_id=entry.user_id)
        total = sum(e.delta or 0 for e in gains)
        if total <= limit:
            return None
        return Alert("person", total, limit, gains[:MOST_ENTRIES], entry.user_id, usual)

    def _usual(self, user_id: str, midnight: dt.datetime) -> int:
        """The 95th percentile of the person's daily points over the USUAL_DAYS before
        today. Those days are over, so it is read once a day per person in this process:
        a busy clerk is over the floor all day, and each of their changes would read
        four weeks of entries again."""
        today = midnight.date()
        known = self._usuals
        if (usual := known.get((user_id, today))) is not None:
            return usual
        if any(day != today for _, day in list(known)):
            known.clear()  # a new day: yesterday's figures are no one's usual any more
        start = dt.datetime.combine(today - dt.timedelta(days=USUAL_DAYS), dt.time(), self.tz)
        by_day: dict[dt.date, int] = defaultdict(int)
        for e in self._gains(start, user_id=user_id, before=midnight):
            by_day[e.at.astimezone(self.tz).date()] += e.delta or 0
        usual = percentile_95(
            [by_day.get(today - dt.timedelta(days=n), 0) for n in range(1, USUAL_DAYS + 1)]
        )
        known[(user_id, today)] = usual
        return usual

    def _gains(self, since: dt.datetime, **which: Any) -> list[AuditEntry]:
        """The points given since `since` that stand (added, or a balance set higher, not
        undone), newest first: of the entries `which` (store.entries' filters) picks."""
        entries = self.store.entries(
            actions=[*GIVING_ACTIONS, Action.POINTS_SET],
            outcome=Outcome.OK,
            since=since,
            limit=None,
            **which,
        )
        return [e for e in entries if e.undone_at is None and (e.delta or 0) > 0]

    @functools.cached_property
    def _usuals(self) -> dict[tuple[str, dt.date], int]:
        """Each person's usual day, as read today (_usual)."""
        return {}

    def _customer(self, entry: AuditEntry, since: dt.datetime) -> Alert | None:
        """The customer's alert, once their last hour's points are over the limit."""
        gains = self._gains(since, target_type=Target.CUSTOMER, target_id=entry.target_id)
        total = sum(e.delta or 0 for e in gains)
        limit = self.alert_thresholds.customer_hourly
        if total <= limit:
            return None
        return Alert(
            "customer",
            total,
            limit,
            gains[:MOST_ENTRIES],
            customer_id=entry.target_id,
            customer_name=entry.target_name,
        )
