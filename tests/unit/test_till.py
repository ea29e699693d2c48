"""At the till: the clerk allowance and redeeming rewards, in the core (what reaches Smart
Passes, what the store holds, what the person is told)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest

from bot.domain.allowance import ClerkAllowance
from bot.domain.amounts import Op, PointsChange
from bot.i18n import speaking
from bot.offline.sandbox import DEMO_PROGRAM_ID, Fault, SandboxApp
from bot.slack import blocks
from tests.clock import Clock
from tests.core import AS_CLERK, AS_MANAGER, Core, core_over, points_added, told
from tests.demo import ANA, CAFE, JUAN, JUANA, LUIS, PAN
from tests.harness import CLERK

MEXICO = ZoneInfo("America/Mexico_City")


def add(n: int) -> PointsChange:
    return PointsChange(Op.ADD, n)


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime.now(dt.UTC))  # the ledger stamps entries with the real time


def today(clock: Clock) -> str:
    return clock.now.astimezone(MEXICO).date().isoformat()


@pytest.fixture
def till(sandbox: SandboxApp, sqlite_url: str, clock: Clock) -> Iterator[Core]:
    """Clerks may add up to 20 points a change and 50 a day (Mexico City's day)."""
    with core_over(
        sandbox,
        sqlite_url,
        allowance=ClerkAllowance(per_change=20, per_day=50),
        clock=clock,
        tz=MEXICO,
    ) as kit:
        yield kit


def test_a_clerk_adds_within_the_allowance(till) -> None:
    result = till.service.change_points(AS_CLERK, JUAN, add(20), "first visit")
    assert (result.before, result.after) == (5, 25) and till.points(JUAN) == 25
    (entry,) = till.store.entries(user_id=CLERK)
    assert (entry.action, entry.outcome) == ("points.add", "ok")


def test_a_refused_add_is_in_the_customers_history_once_with_what_was_asked(till) -> None:
    told(lambda: till.service.change_points(AS_CLERK, JUAN, add(21)))

    def history() -> str:
        customer = till.service.customer(JUAN)
        return told(lambda: blocks.history(customer, till.service.history(JUAN), MEXICO))

    shown = history()
    assert "was refused (+21 asked) · Clerks can add at most 20 points in one change." in shown
    assert "refused*" not in shown  # "was refused" already says it
    with speaking("es"):
        assert "tuvo un cambio rechazado (se pidió +21) · Los empleados pueden sumar" in history()


def test_a_clerk_over_one_change_is_told_the_limit_and_who_to_ask(till) -> None:
    shown = told(lambda: till.service.change_points(AS_CLERK, JUAN, add(21)))
    assert "Clerks can add at most 20 points in one change" in shown
    assert "<!subteam^SMANAGERS>" in shown and "LOYALTY_" not in shown
    assert till.writes() == [] and till.points(JUAN) == 5
    (entry,) = till.store.entries(user_id=CLERK)
    assert entry.outcome == "refused" and entry.requested == "+21"


def test_a_clerk_over_the_day_is_told_what_is_left(till, clock) -> None:
    till.service.change_points(AS_CLERK, JUAN, add(20))
    till.service.change_points(AS_CLERK, JUANA, add(20))
    shown = told(lambda: till.service.change_points(AS_CLERK, ANA, add(15)))
    assert "at most 50 points a day" in shown and "added 40 today" in shown
    assert "10 more can be added" in shown and till.points(ANA) == 25
    till.service.change_points(AS_CLERK, ANA, add(10))  # exactly what is left
    assert till.points(ANA) == 35
    clock.now += dt.timedelta(days=1)  # a new day in Mexico City
    till.service.change_points(AS_CLERK, LUIS, add(20))
    assert till.points(LUIS) == 60


def test_an_add_that_failed_gives_its_points_back(till, clock) -> None:
    till.sandbox.inject("add_points", Fault.REFUSE_422)
    told(lambda: till.service.change_points(AS_CLERK, JUAN, add(20)))
    assert till.store.clerk_points_on(CLERK, today(clock)) == 0
    till.service.change_points(AS_CLERK, JUAN, add(20))
    assert till.store.clerk_points_on(CLERK, today(clock)) == 20


def test_clerks_never_deduct_or_set_whatever_the_allowance(till) -> None:
    for change in (PointsChange(Op.DEDUCT, 1), PointsChange(Op.SET, 6)):
        shown = told(lambda change=change: till.service.change_points(AS_CLERK, JUAN, change))
        assert "Only loyalty *managers* can deduct points or set a balance" in shown
    assert till.writes() == []


def test_a_clerk_undoes_their_own_add_and_gets_the_points_back(till, clock) -> None:
    till.service.change_points(AS_CLERK, JUAN, add(20))
    result = till.service.undo_last(AS_CLERK)
    assert result.after == 5 and till.points(JUAN) == 5
    assert till.store.clerk_points_on(CLERK, today(clock)) == 0


def test_a_clerk_cannot_undo_a_redemption(till) -> None:
    till.service.redeem(AS_CLERK, ANA, CAFE)
    shown = told(lambda: till.service.undo_last(AS_CLERK))
    assert "Only loyalty *managers* can undo a deduction" in shown
    assert till.points(ANA) == 15


def test_without_an_allowance_clerks_add_nothing(core) -> None:
    shown = told(lambda: core.service.change_points(AS_CLERK, JUAN, add(1)))
    assert "Only loyalty *managers* can add points" in shown
    assert "Ask <!subteam^SMANAGERS> to do it" in shown
    assert "redeem" in told(lambda: core.service.redeem(AS_CLERK, ANA, CAFE))


def test_managers_are_not_bound_by_the_allowance(till) -> None:
    till.service.change_points(AS_MANAGER, JUAN, add(500))
    assert till.points(JUAN) == 505


# -- redeeming ------------------------------------------------------------------------


def test_a_redemption_deducts_the_cost_once_and_is_recorded_naming_the_offer(till, clock) -> None:
    result = till.service.redeem(AS_CLERK, ANA, CAFE)
    assert (result.before, result.after) == (25, 15) and result.offer is not None
    assert [c.body for c in till.sandbox.calls_to("PUT", f"/customers/{ANA}")] == [{"points": 15}]
    (entry,) = till.store.entries(target_id=ANA)
    assert (entry.action, entry.outcome, entry.reason) == ("points.redeem", "ok", "Café Gratis")
    assert entry.changes == {"offer_id": [None, CAFE]}
    # Redemptions are not counted against the clerk's daily total.
    assert till.store.clerk_points_on(CLERK, today(clock)) == 0


def test_a_short_balance_says_how_many_points_are_missing(till) -> None:
    shown = told(lambda: till.service.redeem(AS_CLERK, JUAN, CAFE))
    assert "has 5 points and “Café Gratis” costs 10: 5 more points are needed" in shown
    assert till.writes() == [] and till.points(JUAN) == 5
    (entry,) = till.store.entries(target_id=JUAN)
    assert (entry.action, entry.outcome) == ("points.redeem", "refused")


def test_only_published_offers_are_redeemed(till) -> None:
    shown = told(lambda: till.service.redeem(AS_MANAGER, LUIS, PAN))
    assert "only Published offers can be redeemed" in shown
    assert till.writes() == [] and till.points(LUIS) == 40


def test_redeemable_offers_list_the_affordable_first(core) -> None:
    for name, cost in (("Taza", 30), ("Galleta", 5)):
        core.sandbox.state.add_offer(
            DEMO_PROGRAM_ID,
            {"name": name, "description": "", "pointsCost": cost, "autoClaim": False},
            status="Published",
        )
    ana = core.service.customer(ANA)  # 25 points
    assert [o.name for o in core.service.redeemable(ana)] == ["Galleta", "Café Gratis", "Taza"]


def test_a_clerk_with_an_allowance_sees_add_points_and_redeem(till) -> None:
    from bot.slack import blocks
    from tests.unit.test_blocks import labels

    card = blocks.customer_card(
        till.service.customer(JUAN), lambda act: till.roles.allows(CLERK, act)
    )
    assert labels(card) == ["Add points", "Redeem", "Edit", "History"]


def test_without_a_group_the_refusal_names_the_managers() -> None:
    from bot.core.roles import Roles
    from bot.slack.text import mrkdwn

    assert mrkdwn(Roles(["U2", "U1"]).managers_said()) == "<@U1> or <@U2>"
    assert mrkdwn(Roles(["U3", "U2", "U1"]).managers_said()) == "<@U1>, <@U2> or <@U3>"
    assert mrkdwn(Roles([]).managers_said()) == "a manager"


def test_a_redemption_answered_500_after_applying_is_checked_and_told_done(till) -> None:
    till.sandbox.inject("update_customer", Fault.APPLY_THEN_500)
    result = till.service.redeem(AS_MANAGER, ANA, CAFE)
    assert result.after == 15 and till.points(ANA) == 15
    assert len(till.sandbox.calls_to("PUT", f"/customers/{ANA}")) == 1  # sent once
    (entry,) = till.store.entries(target_id=ANA)
    assert (entry.action, entry.outcome, entry.resolved) == ("points.redeem", "ok", "checked")


def test_a_clerk_add_when_the_database_is_gone_sends_nothing(till, mocker) -> None:
    from sqlalchemy.exc import OperationalError

    mocker.patch.object(
        till.store.engine, "begin", side_effect=OperationalError("x", {}, Exception("down"))
    )
    shown = told(lambda: till.service.change_points(AS_CLERK, JUAN, add(10)))
    assert "cannot record changes right now" in shown
    assert till.writes() == [] and till.points(JUAN) == 5


def test_a_history_export_counts_the_shops_calendar_days(till, clock) -> None:
    """`export history today` (1 day) is today since midnight in the shop's time zone, not
    the last 24 hours; 2 days reaches back to yesterday's midnight."""
    midnight = dt.datetime.combine(clock.now.astimezone(MEXICO).date(), dt.time(), MEXICO)
    for minutes, reason in [(-24 * 60 - 1, "two days ago"), (-30, "last night"), (30, "today")]:
        points_added(till.store, midnight + dt.timedelta(minutes=minutes), reason=reason)
    clock.now = midnight + dt.timedelta(hours=23)  # late today: last night is < 24 h ago

    def exported(days: int) -> list[str]:
        return [e.reason for e in till.service.export_history(AS_MANAGER, days)]

    assert exported(1) == ["today"]
    assert exported(2) == ["last night", "today"]
    assert exported(3) == ["two days ago", "last night", "today"]
    yesterday = till.service.export_history(AS_MANAGER, 2, before_today=True)  # `ayer`
    assert [e.reason for e in yesterday] == ["last night"]
