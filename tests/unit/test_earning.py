"""Points from a sale (bot/domain/earning.py, issue 30): the rule's arithmetic, how
promotions combine, and their windows across midnight and daylight-saving changes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.earning import EarningRule, Promotion, Rounding, points_for_sale

MX = ZoneInfo("America/Mexico_City")
MADRID = ZoneInfo("Europe/Madrid")
UTC = dt.UTC
RULE = EarningRule(1, Decimal(10))  # 1 point per 10 MXN, rounded down
TUESDAY = 1

amounts = st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False)
moments = st.datetimes(
    min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2030, 12, 31), timezones=st.just(UTC)
)
promotions = st.builds(
    Promotion,
    name=st.just("promo"),
    multiplier=st.decimals(min_value=1, max_value=5, places=1),
    bonus=st.integers(0, 500),
    weekdays=st.frozensets(st.integers(0, 6), min_size=1),
    under_balance=st.none() | st.integers(0, 1000),
    stacking=st.booleans(),
)
rules = st.builds(
    EarningRule,
    points=st.integers(1, 10),
    per_amount=st.decimals(min_value=Decimal("0.5"), max_value=1000, places=2),
    rounding=st.sampled_from(list(Rounding)),
    minimum_sale=st.decimals(min_value=0, max_value=500, places=2),
)


@given(rules, st.lists(promotions, max_size=5), amounts, moments, st.integers(0, 10**6))
def test_points_are_never_negative_and_the_same_sale_gives_the_same_points(
    rule, promos, amount, at, balance
) -> None:
    first = points_for_sale(rule, promos, amount, at, MX, balance)
    again = points_for_sale(rule, list(promos), amount, at, MX, balance)
    assert first == again
    assert first.base >= 0 and first.total >= first.base
    assert all(points > 0 for _, points in first.extras)
    competing = [p for p, _ in first.extras if not p.stacking]
    assert len(competing) <= 1  # the best one wins, the rest stack


@given(rules, amounts, amounts)
def test_a_bigger_sale_never_earns_fewer_points(rule, a, b) -> None:
    low, high = sorted((a, b))
    assert rule.base_points(low) <= rule.base_points(high)


def test_the_rule_rounds_down_by_default_and_respects_its_minimum() -> None:
    assert RULE.base_points(Decimal("250.00")) == 25
    assert RULE.base_points(Decimal("259.99")) == 25
    assert EarningRule(1, Decimal(10), rounding=Rounding.NEAREST).base_points(Decimal(255)) == 26
    assert EarningRule(1, Decimal(10), rounding=Rounding.UP).base_points(Decimal(251)) == 26
    assert EarningRule(1, Decimal(10), minimum_sale=Decimal(100)).base_points(Decimal(99)) == 0
    with pytest.raises(ValueError):
        EarningRule(0, Decimal(10))


def test_double_points_tuesday_4_to_6_pm_and_the_best_one_wins() -> None:
    double = Promotion(
        "Tuesday double points",
        multiplier=Decimal(2),
        weekdays=frozenset({TUESDAY}),
        starts=dt.time(16),
        ends=dt.time(18),
    )
    welcome = Promotion("Welcome bonus", bonus=20, under_balance=1)
    tuesday_5pm = dt.datetime(2026, 12, 1, 17, 0, tzinfo=MX)
    sale = points_for_sale(RULE, [double, welcome], Decimal(250), tuesday_5pm, MX, balance=5)
    assert (sale.base, sale.total, [p.name for p, _ in sale.extras]) == (
        25,
        50,
        ["Tuesday double points"],
    )
    newcomer = points_for_sale(RULE, [welcome, double], Decimal(100), tuesday_5pm, MX, 0)
    assert newcomer.total == 30 and newcomer.extras[0][0] is welcome  # 20 beats 10 more
    at_6pm = dt.datetime(2026, 12, 1, 18, 0, tzinfo=MX)
    assert points_for_sale(RULE, [double], Decimal(250), at_6pm, MX, 5).total == 25


def test_a_stacking_promotion_adds_to_the_best() -> None:
    double = Promotion("double", multiplier=Decimal(2))
    triple = Promotion("triple", multiplier=Decimal(3))
    stamp = Promotion("stamp day", bonus=5, stacking=True)
    paused = Promotion("paused", bonus=999, paused=True)
    at = dt.datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    sale = points_for_sale(RULE, [double, triple, stamp, paused], Decimal(100), at, MX, 0)
    assert sale.total == 10 + 20 + 5 and [p.name for p, _ in sale.extras] == ["triple", "stamp day"]


def test_a_window_past_midnight_belongs_to_the_day_it_starts() -> None:
    friday_night = Promotion(
        "Friday late", bonus=7, weekdays=frozenset({4}), starts=dt.time(22), ends=dt.time(2)
    )
    friday_2330 = dt.datetime(2026, 12, 4, 23, 30, tzinfo=MX)
    saturday_0130 = dt.datetime(2026, 12, 5, 1, 30, tzinfo=MX)
    saturday_2330 = dt.datetime(2026, 12, 5, 23, 30, tzinfo=MX)
    saturday_0230 = dt.datetime(2026, 12, 5, 2, 30, tzinfo=MX)
    got = [
        points_for_sale(RULE, [friday_night], Decimal(100), at, MX, 0).total
        for at in (friday_2330, saturday_0130, saturday_2330, saturday_0230)
    ]
    assert got == [17, 17, 10, 10]


def test_hours_are_the_shops_wall_clock_across_daylight_saving() -> None:
    sunday_afternoon = Promotion(
        "Sunday", bonus=3, weekdays=frozenset({6}), starts=dt.time(16), ends=dt.time(18)
    )

    def earned(utc_hour: int, day: int, month: int) -> int:
        at = dt.datetime(2026, month, day, utc_hour, 0, tzinfo=UTC)
        return points_for_sale(RULE, [sunday_afternoon], Decimal(50), at, MADRID, 0).total

    # 22 March 2026, a Sunday in winter time (UTC+1): 16:00–18:00 there is 15–17 UTC.
    assert [earned(h, 22, 3) for h in (14, 15, 16, 17)] == [5, 8, 8, 5]
    # 29 March, Madrid moves to summer time (UTC+2) at 02:00: now 14–16 UTC.
    assert [earned(h, 29, 3) for h in (13, 14, 15, 16)] == [5, 8, 8, 5]
    # 25 October, back to UTC+1 at 03:00: 15–17 UTC again.
    assert [earned(h, 25, 10) for h in (14, 15, 16, 17)] == [5, 8, 8, 5]


def test_a_promotion_runs_between_its_dates_in_the_shops_zone() -> None:
    december = Promotion(
        "December", bonus=1, first_day=dt.date(2026, 12, 1), last_day=dt.date(2026, 12, 31)
    )
    # 1 January 2027 01:00 UTC is still 31 December in Mexico City (UTC-6).
    new_year_utc = dt.datetime(2027, 1, 1, 1, 0, tzinfo=UTC)
    assert points_for_sale(RULE, [december], Decimal(10), new_year_utc, MX, 0).total == 2
    assert points_for_sale(RULE, [december], Decimal(10), new_year_utc, UTC, 0).total == 1
