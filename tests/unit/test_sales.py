"""Points from sales through the service (bot.core.sales): the rule and the promotions in
force, the ledger (once, audited with the sale), the clerk allowance, the largest change,
undo; and promotions kept by managers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.allowance import ClerkAllowance
from bot.domain.audit import Action
from bot.domain.earning import MOST_PROMOTIONS, EarningRule, Promotion
from bot.domain.errors import AlreadyDone, ChangeRefused, OverAllowance, PermissionDenied
from tests.core import AS_CLERK, AS_MANAGER, core_over, told
from tests.demo import JUAN
from tests.faults import make_read_only

SHOP = ZoneInfo("America/Mexico_City")
RULE = EarningRule(1, Decimal(10), "MXN", minimum_sale=Decimal(20))
TUESDAY_5PM = dt.datetime(2026, 12, 1, 17, 0, tzinfo=SHOP)  # a Tuesday
WEDNESDAY_5PM = TUESDAY_5PM + dt.timedelta(days=1)
DOUBLE_TUESDAY = Promotion(
    "Tuesday double points",
    multiplier=Decimal(2),
    weekdays=frozenset({1}),
    starts=dt.time(16),
    ends=dt.time(18),
)


@pytest.fixture
def kit(sandbox, sqlite_url):
    allowance = ClerkAllowance(per_change=40, per_day=60)
    with core_over(sandbox, sqlite_url, earning=RULE, tz=SHOP, allowance=allowance) as core:
        yield core


def test_a_sale_adds_the_rules_points_once_and_records_the_sale(kit) -> None:
    sale = kit.service.record_sale(AS_MANAGER, JUAN, Decimal("250.00"), "ticket 18", at=TUESDAY_5PM)
    assert (sale.points.before, sale.points.after, sale.earned.base) == (5, 30, 25)
    assert kit.points(JUAN) == 30
    assert [c.body for c in kit.writes()] == [{"points": 25}]
    entry = kit.store.entry(sale.points.entry.id)
    assert entry.action == Action.POINTS_SALE and entry.reason == "ticket 18"
    recorded = entry.changes["sale"][1]
    assert recorded["amount"] == "250.00" and recorded["currency"] == "MXN"
    assert recorded["rule"]["per"] == "10" and recorded["promotions"] == []


def test_a_promotion_in_force_adds_its_points_and_is_recorded(kit) -> None:
    kit.service.add_promotion(AS_MANAGER, DOUBLE_TUESDAY)
    sale = kit.service.record_sale(AS_MANAGER, JUAN, Decimal(250), at=TUESDAY_5PM)
    assert sale.earned.total == 50 and kit.points(JUAN) == 55
    (promo, extra) = sale.earned.extras[0]
    assert (promo.name, extra) == ("Tuesday double points", 25)
    recorded = kit.store.entry(sale.points.entry.id).changes["sale"][1]
    assert recorded["promotions"] == [{"id": promo.id, "name": promo.name, "points": 25}]
    outside = kit.service.record_sale(AS_MANAGER, JUAN, Decimal(250), at=WEDNESDAY_5PM)
    assert outside.earned.total == 25


def test_a_paused_promotion_does_not_apply_and_an_ended_one_is_gone(kit) -> None:
    entry = kit.service.add_promotion(AS_MANAGER, DOUBLE_TUESDAY)
    kit.service.change_promotion(AS_MANAGER, entry.target_id, Action.PROMOTION_PAUSE)
    assert (
        kit.service.record_sale(AS_MANAGER, JUAN, Decimal(100), at=TUESDAY_5PM).earned.total == 10
    )
    kit.service.change_promotion(AS_MANAGER, entry.target_id, Action.PROMOTION_RESUME)
    assert (
        kit.service.record_sale(AS_MANAGER, JUAN, Decimal(100), at=TUESDAY_5PM).earned.total == 20
    )
    kit.service.change_promotion(AS_MANAGER, entry.target_id, Action.PROMOTION_END)
    assert kit.service.promotions() == []
    with pytest.raises(AlreadyDone):
        kit.service.change_promotion(AS_MANAGER, entry.target_id, Action.PROMOTION_END)


def test_sales_that_earn_nothing_change_nothing(kit) -> None:
    with pytest.raises(ChangeRefused, match="under"):
        kit.service.record_sale(AS_MANAGER, JUAN, Decimal("19.99"), at=TUESDAY_5PM)
    kit.service.earning = EarningRule(1, Decimal(100), "MXN")
    with pytest.raises(ChangeRefused, match="earns no points"):
        kit.service.record_sale(AS_MANAGER, JUAN, Decimal(99), at=TUESDAY_5PM)
    from bot.slack.blocks.audit import describe

    refused = describe(kit.service.history(JUAN)[0])  # the sale it was, not "+0 asked"
    assert refused.startswith("recorded a sale of 99.00 MXN for *Juan Pérez* (`1870`): from 5")
    assert "asked" not in refused and "refused" in refused
    kit.service.earning = None
    with pytest.raises(ChangeRefused, match="do not earn points yet"):
        kit.service.record_sale(AS_MANAGER, JUAN, Decimal(99), at=TUESDAY_5PM)
    assert kit.writes() == [] and kit.points(JUAN) == 5


def test_a_clerks_sale_counts_against_the_allowance_in_points(kit) -> None:
    kit.service.record_sale(AS_CLERK, JUAN, Decimal(400), at=WEDNESDAY_5PM)  # 40: fits
    with pytest.raises(OverAllowance, match="at most 40 points in one change"):
        kit.service.record_sale(AS_CLERK, JUAN, Decimal(410), at=WEDNESDAY_5PM)
    with pytest.raises(OverAllowance, match="added 40 today"):
        kit.service.record_sale(AS_CLERK, JUAN, Decimal(300), at=WEDNESDAY_5PM)
    assert kit.points(JUAN) == 45 and len(kit.writes()) == 1


def test_undoing_a_sale_removes_exactly_its_points(kit) -> None:
    kit.service.add_promotion(AS_MANAGER, DOUBLE_TUESDAY)
    kit.service.record_sale(AS_CLERK, JUAN, Decimal(150), at=TUESDAY_5PM)  # 15 + 15
    assert kit.points(JUAN) == 35
    undone = kit.service.undo_last(AS_CLERK)
    assert (undone.before, undone.after) == (35, 5) and kit.points(JUAN) == 5
    # the clerk's day has its 30 points back: 60 more fit
    kit.service.record_sale(AS_CLERK, JUAN, Decimal(200), at=TUESDAY_5PM)
    kit.service.record_sale(AS_CLERK, JUAN, Decimal(100), at=TUESDAY_5PM)
    assert kit.points(JUAN) == 65


def test_a_sale_with_the_database_gone_sends_nothing_and_says_so(kit) -> None:
    make_read_only(kit.store.engine)
    said = told(lambda: kit.service.record_sale(AS_MANAGER, JUAN, Decimal(250)))
    assert "Nothing was changed: I cannot record changes right now" in said
    assert kit.writes() == [] and kit.points(JUAN) == 5


def test_promotions_are_for_managers_and_a_handful(kit) -> None:
    with pytest.raises(PermissionDenied):
        kit.service.add_promotion(AS_CLERK, DOUBLE_TUESDAY)
    assert kit.service.promotions() == []
    for n in range(MOST_PROMOTIONS):
        kit.service.add_promotion(AS_MANAGER, Promotion(f"Bonus {n}", bonus=1))
    with pytest.raises(ChangeRefused, match="already 10 promotions"):
        kit.service.add_promotion(AS_MANAGER, Promotion("One too many", bonus=1))
    entries = kit.store.entries(actions=[Action.PROMOTION_CREATE], limit=20)
    assert len(entries) == MOST_PROMOTIONS and entries[0].user_id == AS_MANAGER.user_id


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    amount=st.decimals(Decimal("0.01"), Decimal(100_000), places=2),
    multiplier=st.sampled_from([Decimal(1), Decimal("1.5"), Decimal(3)]),
    bonus=st.integers(0, 500),
)
def test_a_sale_never_changes_more_than_the_largest_change(
    sandbox, sqlite_url, amount, multiplier, bonus
) -> None:
    with core_over(sandbox, sqlite_url, earning=RULE, tz=SHOP, max_points=1000) as core:
        core.store.add_promotion(Promotion("P", multiplier=multiplier, bonus=bonus), "U", 10)
        before = core.points(JUAN)
        try:
            sale = core.service.record_sale(AS_MANAGER, JUAN, amount, at=TUESDAY_5PM)
        except ChangeRefused:
            assert core.points(JUAN) == before
        else:
            assert 0 < sale.earned.total <= 1000
            assert core.points(JUAN) - before == sale.earned.total
        for promo in core.store.promotions():
            core.store.change_promotion(promo.id)
