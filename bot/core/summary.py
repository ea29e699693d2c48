"""The daily summary's figures, computed from the Loyalty API and the bot's store (no Slack).

"Since the previous summary" compares with the snapshot the previous posted summary saved
(customer ids and the points total), so changes made outside Slack show up too.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from bot.core import background
from bot.core.index.balances import BalanceList
from bot.core.index.customer_list import strictly_ascending
from bot.core.verify import Verified, verify
from bot.domain.audit import Action, AuditEntry, Changes, Outcome, utcnow
from bot.domain.records import Approval
from bot.smartpasses.client import LoyaltyClient
from bot.smartpasses.models import Customer
from bot.store.database import Store

TOP = 5  # the leaders shown (no more than BalanceList.top answers for: SURE)
TREND_DAYS = 7
NEW_WINDOW = 10_000  # ids compared with the previous snapshot at a time
CHART_DAYS = 14  # the summary's chart: points added, deducted and redeemed per day
_BARS = "▁▂▃▄▅▆▇█"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StaffTotal:
    user_id: str
    changes: int
    added: int
    deducted: int


@dataclass(frozen=True)
class DayPoints:
    """One day of the summary's chart: points added, deducted and redeemed (as positive
    numbers) by the changes that stand."""

    day: dt.date
    added: int = 0
    deducted: int = 0
    redeemed: int = 0


@dataclass(frozen=True)
class SalesTotal:
    """The sales recorded since local midnight that stand: how many, the money (by
    currency: a shop that changed its currency shows both), the points they earned and
    those that came from promotions."""

    count: int = 0
    money: dict[str, Decimal] = field(default_factory=dict)
    points: int = 0
    from_promotions: int = 0


def sales_total(sales: list[tuple[int, Changes]]) -> SalesTotal:
    money: dict[str, Decimal] = defaultdict(Decimal)
    points = promoted = 0
    for earned, changes in sales:
        sale = (changes.get("sale") or [None, None])[1]
        points += earned
        if not isinstance(sale, dict):
            continue
        with contextlib.suppress(ArithmeticError):
            money[str(sale.get("currency") or "")] += Decimal(str(sale.get("amount") or 0))
        promoted += sum(int(p.get("points") or 0) for p in sale.get("promotions") or [])
    return SalesTotal(len(sales), dict(money), points, promoted)


@dataclass(frozen=True)
class Summary:
    day: dt.date
    generated_at: dt.datetime
    customers: int
    points_outstanding: int
    points_added_24h: int
    points_deducted_24h: int
    points_added_prior_24h: int
    points_deducted_prior_24h: int
    previous_day: str | None
    previous_customers: int | None
    previous_points: int | None
    new_customers: int | None
    top_customers: list[Customer]
    staff: list[StaffTotal]
    offers_by_status: dict[str, int]
    offer_events: list[AuditEntry]
    pending: list[Approval]
    trend: list[tuple[dt.date, int]]
    customer_ids: Sequence[int] = field(repr=False, default_factory=list)  # the list's array
    redeemed_today: tuple[int, int] = (0, 0)  # rewards, points (since local midnight)
    sales_today: SalesTotal = field(default_factory=SalesTotal)
    chart: list[DayPoints] = field(default_factory=list)  # the last CHART_DAYS, oldest first
    # Balances that differ from the bot's records: changed outside the bot (bot.core.verify)
    outside: Verified = field(default_factory=lambda: Verified(0))

    @property
    def net_change(self) -> int | None:
        """All balances, now against the previous summary's snapshot."""
        return (
            None if self.previous_points is None else self.points_outstanding - self.previous_points
        )

    @property
    def customers_change(self) -> int | None:
        return None if self.previous_customers is None else self.customers - self.previous_customers


def count_new(ids: Sequence[int], before: Sequence[int]) -> int:
    """How many of `ids` are not in `before` (sorted, as a snapshot keeps them): a window
    of NEW_WINDOW ids against the part of `before` in their range at a time, so that no
    set of a whole large program's ids (an object per id) is held at once."""
    if not strictly_ascending(ids):
        ids = sorted(ids)  # the API lists customers by id: rarely needed
    new = 0
    for start in range(0, len(ids), NEW_WINDOW):
        window = ids[start : start + NEW_WINDOW]
        low = bisect.bisect_left(before, window[0])
        known = set(before[low : bisect.bisect_right(before, window[-1], lo=low)])
        new += len(window) - sum(map(known.__contains__, window))
    return new


def local_day(moment: dt.datetime, tz: ZoneInfo) -> dt.date:
    return moment.astimezone(tz).date()


def build_summary(
    api: LoyaltyClient,
    store: Store,
    tz: ZoneInfo,
    now: dt.datetime | None = None,
    *,
    customers_now: Callable[[], BalanceList | None] | None = None,
) -> Summary:
    """`customers_now`: every customer's balance as of now, from the lookup index (a fresh
    snapshot, or a list fetched for this); without it the list is fetched here (only its
    balances and leaders read: bot.core.index.balances). The offers are fetched
    meanwhile."""
    now = now or utcnow()
    today = local_day(now, tz)
    offers_later = background.beside(api.list_offers, "summary-offers")
    listed = customers_now() if customers_now else None
    customers = api.list_customers(BalanceList.from_json) if listed is None else listed
    offers = offers_later()

    ids = customers.ids
    total = sum(customers.points)
    previous = store.snapshot_before(today.isoformat())
    new = None
    if previous is not None:
        new = count_new(ids, previous.customer_ids)

    start_of_chart = dt.datetime.combine(
        today - dt.timedelta(days=max(TREND_DAYS, CHART_DAYS) - 1), dt.time(), tzinfo=tz
    )
    moves = store.points_moves_since(min(start_of_chart, now - dt.timedelta(hours=48)))
    day_ago, two_days_ago = now - dt.timedelta(hours=24), now - dt.timedelta(hours=48)
    added = deducted = added_prior = deducted_prior = 0
    per_day: dict[dt.date, int] = defaultdict(int)
    staff: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    charted: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0, 0])
    for at, user, delta, action in moves:
        day = local_day(at, tz)
        if delta > 0:
            per_day[day] += delta
        redeemed = action == Action.POINTS_REDEEM
        charted[day][0 if delta > 0 else 2 if redeemed else 1] += abs(delta)
        # Deducted leaves redemptions out: the summary and the Home tab count those apart
        # (redeemed today), as the chart does; a person's total counts all they moved.
        taken = 0 if redeemed else max(-delta, 0)
        if at >= day_ago:
            added += max(delta, 0)
            deducted += taken
            totals = staff[user]
            totals[0] += 1
            totals[1 if delta > 0 else 2] += abs(delta)
        elif at >= two_days_ago:
            added_prior += max(delta, 0)
            deducted_prior += taken

    midnight = dt.datetime.combine(today, dt.time(), tzinfo=tz)
    by_status: dict[str, int] = {}
    spelled: dict[str, str] = {}
    for offer in offers:
        label = spelled.setdefault(offer.status_key, offer.status or "(none)")
        by_status[label] = by_status.get(label, 0) + 1

    return Summary(
        day=today,
        generated_at=now,
        customers=len(customers),
        points_outstanding=total,
        points_added_24h=added,
        points_deducted_24h=deducted,
        points_added_prior_24h=added_prior,
        points_deducted_prior_24h=deducted_prior,
        previous_day=previous.day if previous else None,
        previous_customers=previous.customers if previous else None,
        previous_points=previous.points_total if previous else None,
        new_customers=new,
        top_customers=customers.top(TOP),
        staff=sorted(
            (StaffTotal(user, n, a, d) for user, (n, a, d) in staff.items()),
            key=lambda s: (-s.changes, -(s.added + s.deducted), s.user_id),
        )[:TOP],
        offers_by_status=dict(sorted(by_status.items())),
        offer_events=store.entries(
            actions=["offer.publish", "offer.cancel"], outcome=Outcome.OK, since=day_ago, limit=20
        ),
        pending=[a for a in store.open_approvals() if a.message_ts],
        trend=[
            (today - dt.timedelta(days=n), per_day.get(today - dt.timedelta(days=n), 0))
            for n in range(TREND_DAYS - 1, -1, -1)
        ],
        customer_ids=ids,
        redeemed_today=store.redemptions_since(midnight),
        sales_today=sales_total(store.sales_since(midnight)),
        chart=[
            DayPoints(day, *charted.get(day, (0, 0, 0)))
            for day in (today - dt.timedelta(days=n) for n in range(CHART_DAYS - 1, -1, -1))
        ],
        outside=verify(store, customers),
    )


class SharedSummary:
    """`/loyalty summary` on demand: one computation serves every request for a minute,
    and requests that arrive while it runs wait for that same one, so asking thirty
    times costs one list fetch (and one summary's memory), not thirty."""

    def __init__(
        self,
        build: Callable[[], Summary],
        *,
        fresh_for: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._build = build
        self._fresh_for = fresh_for
        self._clock = clock
        self._lock = threading.Lock()
        self._latest: tuple[float, Summary] | None = None
        self._running: Future[Summary] | None = None

    def get(self) -> Summary:
        with self._lock:
            if self._latest and self._clock() - self._latest[0] < self._fresh_for:
                return self._latest[1]
            running, leading = self._running, self._running is None
            if leading:
                running = self._running = Future()
        assert running is not None
        if not leading:
            return running.result()
        try:
            summary = self._build()
        except BaseException as exc:
            with self._lock:
                self._running = None
            running.set_exception(exc)
            raise
        with self._lock:
            self._latest, self._running = (self._clock(), summary), None
        running.set_result(summary)
        return summary


def save_snapshot(store: Store, summary: Summary) -> None:
    """Called when a summary is posted: the next one compares with this. Snapshots older
    than 35 days are pruned; a database too busy for that (SQLite held by another writer)
    leaves them for the next summary, with a warning: the summary itself stands."""
    store.save_snapshot(summary.day.isoformat(), summary.customer_ids, summary.points_outstanding)
    try:
        store.prune_snapshots((summary.day - dt.timedelta(days=35)).isoformat())
    except SQLAlchemyError as exc:
        log.warning("old summary snapshots not pruned this time (%s)", type(exc).__name__)


def sparkline(values: list[int]) -> str:
    top = max(values, default=0)
    if top <= 0:
        return _BARS[0] * len(values)
    return "".join(_BARS[min(len(_BARS) - 1, round(v / top * (len(_BARS) - 1)))] for v in values)


def arrow(delta: int | None) -> str:
    if delta is None:
        return ""
    if delta > 0:
        return f"▲ {delta:+,}"
    if delta < 0:
        return f"▼ {delta:+,}".replace("-", "−")
    return "="  # presentation says "no change" in the reader's words
