"""The daily summary: figures, the snapshot diff, once per day, time zones, limits, CLI."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.exc import OperationalError

from bot.core import summary as summary_core
from bot.core.index.balances import BalanceList
from bot.core.index.customer_list import CustomerList
from bot.core.summary import build_summary, count_new, save_snapshot, sparkline
from bot.domain.settings import Settings
from bot.jobs.summary import build_scheduler, due_today
from bot.offline.sandbox import DEMO_PROGRAM_ID
from bot.slack import blocks
from bot.store.database import Store
from tests.demo import ANA, JUAN, LUIS
from tests.harness import text_of

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def _points(
    store: Store,
    user: str,
    customer: int,
    before: int,
    after: int,
    at: dt.datetime,
    action: str = "points.add",
) -> None:
    store.record(
        user_id=user,
        action=action,
        outcome="ok",
        target_type="customer",
        target_id=customer,
        target_name="x",
        before=before,
        after=after,
        at=at,
    )


@pytest.fixture
def store(sqlite_url) -> Store:
    return Store.from_url(sqlite_url)


def test_figures_from_program_and_audit_log(client, store) -> None:
    h = dt.timedelta(hours=1)
    _points(store, "UANA", JUAN, 5, 15, NOW - 2 * h)  # +10, today
    _points(store, "UANA", LUIS, 40, 35, NOW - 3 * h, "points.deduct")  # -5
    _points(store, "UBEN", ANA, 25, 28, NOW - 5 * h)  # +3
    _points(store, "UBEN", ANA, 28, 30, NOW - 30 * h)  # +2, the day before
    _points(store, "UBEN", ANA, 0, 7, NOW - 3 * 24 * h)  # +7, three days ago
    store.record(
        user_id="UANA", action="points.add", outcome="failed", target_id=JUAN, before=5, at=NOW - h
    )  # failures do not count
    store.record(
        user_id="UMGR",
        action="offer.publish",
        outcome="ok",
        target_type="offer",
        target_id=5002,
        target_name="Pan dulce 2x1",
        at=NOW - 4 * h,
    )
    s = build_summary(client, store, ZoneInfo("UTC"), NOW)
    assert (s.customers, s.points_outstanding) == (6, 82)
    assert (s.points_added_24h, s.points_deducted_24h, s.points_added_prior_24h) == (13, 5, 2)
    assert s.points_deducted_prior_24h == 0
    assert [(t.user_id, t.changes, t.added, t.deducted) for t in s.staff] == [
        ("UANA", 2, 10, 5),
        ("UBEN", 1, 3, 0),
    ]
    assert [c.id for c in s.top_customers] == [LUIS, ANA, 1871, JUAN, 1869]
    assert s.offers_by_status == {"Draft": 1, "Published": 1}
    assert [e.target_name for e in s.offer_events] == ["Pan dulce 2x1"]
    assert [v for _, v in s.trend] == [0, 0, 0, 7, 0, 2, 13]
    assert s.trend[-1][0] == dt.date(2026, 11, 25)
    assert s.new_customers is None and s.net_change is None  # no earlier summary


@given(st.lists(st.integers(-50, 50), max_size=40), st.sets(st.integers(-50, 50), max_size=40))
def test_new_customers_are_counted_window_by_window_as_a_set_would(ids, before) -> None:
    """The ids in order or not, repeated or not, against a sorted snapshot: compared
    three at a time here, each counted as a whole set of the snapshot would count it."""
    expected = sum(1 for i in ids if i not in before)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(summary_core, "NEW_WINDOW", 3)
        assert count_new(ids, sorted(before)) == expected
        assert count_new(sorted(ids), sorted(before)) == expected


def test_snapshot_diff_catches_changes_made_outside_slack(client, store, sandbox) -> None:
    first = build_summary(client, store, ZoneInfo("UTC"), NOW)
    fields = [
        f["text"]
        for b in blocks.summary_message(first, ZoneInfo("UTC")).blocks
        for f in b.get("fields") or []
    ]
    outstanding = next(f for f in fields if f.startswith("*Points outstanding*"))
    assert outstanding == f"*Points outstanding*\n{first.points_outstanding}"  # no arrow yet
    save_snapshot(store, first)
    # The next day: a dashboard edit and a new wallet sign-up, neither through the bot.
    sandbox.state.update_customer(DEMO_PROGRAM_ID, ANA, {"points": 125})
    sandbox.state.add_customer(DEMO_PROGRAM_ID, {"firstName": "Nueva"}, points=3)
    sandbox.state.delete_customer(DEMO_PROGRAM_ID, 1869)
    second = build_summary(client, store, ZoneInfo("UTC"), NOW + dt.timedelta(days=1))
    assert second.previous_day == "2026-11-25" and second.new_customers == 1
    assert second.net_change == 103 and second.customers_change == 0
    shown = text_of(blocks.summary_message(second, ZoneInfo("UTC")).__dict__)
    assert "▲ +103" in shown and "1 new since Wed 25 Nov 2026" in shown


def test_a_database_too_busy_to_prune_old_snapshots_leaves_the_summary_standing(
    client, store, caplog
) -> None:
    """The clock's summary is posted, then its snapshot saved; pruning old snapshots is
    housekeeping: a busy SQLite (another writer holding it) is one warning, not a failed
    summary with a traceback."""
    old = build_summary(client, store, ZoneInfo("UTC"), NOW - dt.timedelta(days=40))
    save_snapshot(store, old)

    def busy(keep_after_day: str) -> None:
        raise OperationalError("DELETE FROM summary_snapshots", {}, Exception("locked"))

    store.prune_snapshots = busy
    today = build_summary(client, store, ZoneInfo("UTC"), NOW)
    with caplog.at_level(logging.WARNING, logger="bot.core.summary"):
        save_snapshot(store, today)
    assert [r.getMessage() for r in caplog.records] == [
        "old summary snapshots not pruned this time (OperationalError)"
    ]
    assert not any(r.exc_info for r in caplog.records)
    later = build_summary(client, store, ZoneInfo("UTC"), NOW + dt.timedelta(days=1))
    assert later.previous_day == "2026-11-25"  # today's snapshot was saved
    del store.prune_snapshots
    save_snapshot(store, later)  # the next summary prunes what was left
    assert store.snapshot_before(today.day.isoformat()) is None


def test_summary_blocks_stay_within_limits_and_escape(client, store, sandbox) -> None:
    for i in range(30):
        sandbox.state.add_customer(
            DEMO_PROGRAM_ID,
            {"firstName": "<!channel> " + "Ñ" * 80, "lastName": f"*{i}*"},
            points=1000 + i,
        )
    for i in range(40):
        _points(store, f"U{i:03d}", JUAN, 0, 5, NOW - dt.timedelta(minutes=i))
    message = blocks.summary_message(
        build_summary(client, store, ZoneInfo("UTC"), NOW), ZoneInfo("UTC")
    )
    assert len(message.blocks) <= 50
    for block in message.blocks:
        if block.get("text"):
            assert len(block["text"]["text"]) <= 3000
    shown = text_of(message.__dict__)
    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown


def test_sparkline_scales_to_the_largest_day() -> None:
    assert sparkline([0, 0, 0]) == "▁▁▁"
    assert sparkline([0, 5, 10]) == "▁▅█"


# -- posting once a day ------------------------------------------------------------------


@pytest.fixture
def slack(slack_standin):
    return slack_standin


def _settings(**values) -> Settings:
    return Settings(_env_file=None, smartpasses_app_key="k", smartpasses_program_id=1, **values)


def test_trend_buckets_by_local_day(client, store) -> None:
    _points(store, "U1", JUAN, 0, 4, dt.datetime(2026, 11, 25, 2, 0, tzinfo=UTC))
    mexico = build_summary(client, store, ZoneInfo("America/Mexico_City"), NOW)
    assert [v for _, v in mexico.trend][-2:] == [4, 0]  # 20:00 on the 24th there
    utc = build_summary(client, store, ZoneInfo("UTC"), NOW)
    assert [v for _, v in utc.trend][-2:] == [0, 4]


def test_clock_ticks_every_minute_and_knows_when_it_is_due(store) -> None:
    settings = _settings(
        loyalty_summary_time="09:00",
        loyalty_timezone="Europe/Madrid",
        loyalty_summary_channel="CSUM",
    )
    (job,) = build_scheduler(settings, lambda: None).get_jobs()
    assert job.trigger.interval == dt.timedelta(minutes=1)
    early = dt.datetime(2026, 11, 25, 7, 0, tzinfo=UTC)  # 08:00 Madrid
    late = dt.datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # 13:00 Madrid
    assert not due_today(settings, store, "CSUM", early)
    assert due_today(settings, store, "CSUM", late)
    store.claim_summary_post("2026-11-25", "CSUM")
    assert due_today(settings, store, "CSUM", late)  # claimed, but no message yet
    store.summary_posted("2026-11-25", "CSUM", "1.2")
    assert not due_today(settings, store, "CSUM", late)


def test_the_summary_reuses_a_fresh_index_instead_of_a_second_list(core) -> None:
    index = core.service.index
    core.service.find_customers("juan")  # the index holds a fresh list
    fetched = len(core.sandbox.calls_to("GET", "/customers"))
    summary = build_summary(core.loyalty, core.store, UTC, customers_now=index.balances)
    assert summary.customers == 6
    assert len(core.sandbox.calls_to("GET", "/customers")) == fetched  # no second download
    index.invalidate()  # not fresh: the list is fetched once, for the summary and the index
    core.sandbox.state.add_points(DEMO_PROGRAM_ID, 1870, {"points": 4000})  # outside Slack
    summary = build_summary(core.loyalty, core.store, UTC, customers_now=index.balances)
    assert len(core.sandbox.calls_to("GET", "/customers")) == fetched + 1
    balance = core.sandbox.state.customer(DEMO_PROGRAM_ID, 1870)["points"]
    assert (summary.top_customers[0].id, summary.top_customers[0].points) == (1870, balance)
    assert index.find("#1870").found.points == balance  # the index took the same list
    assert len(core.sandbox.calls_to("GET", "/customers")) == fetched + 1


def test_a_summary_of_no_customers_does_not_fetch_again(core) -> None:
    empty = BalanceList.of(CustomerList.of([]))
    summary = build_summary(core.loyalty, core.store, UTC, customers_now=lambda: empty)
    assert summary.customers == 0 and core.sandbox.calls_to("GET", "/customers") == []


def test_redemptions_are_counted_apart_from_deductions_in_both_windows(client, store) -> None:
    h = dt.timedelta(hours=1)
    _points(store, "UANA", JUAN, 15, 5, NOW - h, "points.redeem")
    _points(store, "UANA", LUIS, 40, 35, NOW - 2 * h, "points.deduct")
    _points(store, "UANA", JUAN, 25, 15, NOW - 30 * h, "points.redeem")
    _points(store, "UANA", LUIS, 45, 40, NOW - 30 * h, "points.deduct")
    s = build_summary(client, store, ZoneInfo("UTC"), NOW)
    assert (s.points_deducted_24h, s.points_deducted_prior_24h) == (5, 5)
    assert [(t.changes, t.added, t.deducted) for t in s.staff] == [(2, 0, 15)]
    today = s.chart[-1]
    assert (today.added, today.deducted, today.redeemed) == (0, 5, 10)


def test_a_change_and_its_undo_cancel_out_and_a_redemption_counts_once(core) -> None:
    """One +10, its undo, and one 10-point redemption: added 0, deducted 0, redeemed 10
    (shown beside deducted: counted in both, a reader would add them up), the person's
    total −10 (the history keeps all three)."""
    from bot.domain.amounts import Op, PointsChange
    from tests.core import AS_MANAGER

    core.service.change_points(AS_MANAGER, JUAN, PointsChange(Op.ADD, 10))
    core.service.undo_last(AS_MANAGER)
    cafe = next(o for o in core.service.offers() if o.name == "Café Gratis")
    core.service.redeem(AS_MANAGER, ANA, cafe.id)
    summary = build_summary(core.loyalty, core.store, UTC)
    assert (summary.points_added_24h, summary.points_deducted_24h) == (0, 0)
    (staff,) = summary.staff
    assert (staff.changes, staff.added, staff.deducted) == (1, 0, 10)
    assert summary.redeemed_today == (1, 10)
    assert len(core.store.entries(limit=None)) == 3


def test_the_chart_counts_each_days_points_added_deducted_and_redeemed(client, store) -> None:
    tz = ZoneInfo("America/Mexico_City")
    d = dt.timedelta(days=1)
    _points(store, "UANA", JUAN, 5, 15, NOW)  # +10 today
    _points(store, "UANA", JUAN, 15, 12, NOW, "points.deduct")  # -3 today
    _points(store, "UANA", JUAN, 12, 2, NOW - d, "points.redeem")  # 10 redeemed yesterday
    _points(store, "UANA", LUIS, 40, 50, NOW - 13 * d)  # the chart's first day
    _points(store, "UANA", LUIS, 50, 60, NOW - 14 * d)  # before it
    chart = build_summary(client, store, tz, NOW).chart
    assert len(chart) == 14 and chart[-1].day == dt.date(2026, 11, 25)
    assert (chart[-1].added, chart[-1].deducted, chart[-1].redeemed) == (10, 3, 0)
    assert (chart[-2].added, chart[-2].deducted, chart[-2].redeemed) == (0, 0, 10)
    assert chart[0].added == 10 and sum(day.added for day in chart) == 20


def test_the_charts_words_are_the_readers(client, store) -> None:
    from bot.i18n import speaking
    from bot.slack.chart import alt_text, chart_figures

    _points(store, "UANA", JUAN, 5, 15, NOW)
    chart = build_summary(client, store, UTC, NOW).chart
    assert alt_text(chart) == (
        "Chart of the last 14 days: 10 points added, 0 deducted and 0 redeemed. "
        "The busiest day was Wednesday 25 November (10 added)."
    )
    with speaking("es"):
        figures = chart_figures(chart)
        assert alt_text(chart).startswith("Gráfica de los últimos 14 días: 10 puntos sumados")
        assert alt_text(chart).endswith("fue el miércoles 25 de noviembre (10 sumados).")
    assert figures["title"] == "Puntos, últimos 14 días"
    assert [name for name, _values, _color in figures["series"]] == [
        "sumados",
        "restados",
        "canjeados",
    ]
    assert figures["days"][-1] == "mié 25"


@pytest.mark.parametrize(
    ("sales", "language", "line"),
    [
        (
            summary_core.SalesTotal(1, {"MXN": Decimal("349.90")}, 34, 0),
            "en",
            "Sales today: 1 sale, 349.90 MXN, 34 points",  # no promotion: no "(0 from …)"
        ),
        (
            summary_core.SalesTotal(2, {"MXN": Decimal("350")}, 70, 35),
            "es",
            "Ventas de hoy: 2 ventas, 350.00 MXN, 70 puntos (35 de promociones)",
        ),
    ],
)
def test_the_sales_line_names_promotions_only_when_they_added_points(sales, language, line) -> None:
    from bot.i18n import speaking
    from bot.slack.blocks.summary import _sales_line

    with speaking(language):
        (block,) = _sales_line(sales)
    assert text_of({"blocks": [block.to_dict()]}) == line
