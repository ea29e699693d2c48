"""Alerts about unusual points (bot.core.alerts): a person's day far over their usual and
over the floor; a customer's hour over the limit; each told once; and the manager's Undo
of one alerted change."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.core.alerts import percentile_95
from bot.domain.allowance import AlertThresholds
from bot.domain.audit import Actor, utcnow
from bot.domain.errors import ChangeRefused, PermissionDenied
from tests.core import core_over
from tests.demo import JUAN, JUANA
from tests.harness import CLERK, MANAGER

CAROL = Actor("UCAROL", "T1")
NOW = utcnow()


@pytest.fixture
def kit(sandbox, sqlite_url):
    thresholds = AlertThresholds(factor=3.0, daily_floor=100, customer_hourly=150)
    with core_over(sandbox, sqlite_url, alerts=thresholds) as core:
        yield core


def _given(store, user: str, points: int, at: dt.datetime, customer: int = JUAN) -> int:
    return store.record(
        user_id=user,
        action="points.add",
        outcome="ok",
        target_type="customer",
        target_id=customer,
        target_name="Juan Pérez",
        before=0,
        after=points,
        at=at,
    )


def _alerts_after(kit, entry_id: int):
    return kit.service.alerts_after(kit.store.entry(entry_id))


def test_percentile_95_is_the_nearest_rank() -> None:
    assert percentile_95([]) == 0
    assert percentile_95([5]) == 5
    assert percentile_95(list(range(1, 21))) == 19  # 0.95 * 20 = 19th value
    assert percentile_95([0] * 27 + [90]) == 0  # one busy day in 28 is not the usual
    assert percentile_95([0] * 26 + [90, 90]) == 90


def test_a_day_over_the_floor_with_no_history_is_told_once(kit) -> None:
    _given(kit.store, "UCAROL", 60, NOW, JUAN)
    assert _alerts_after(kit, _given(kit.store, "UCAROL", 40, NOW, JUANA)) == []  # 100: not over
    third = _given(kit.store, "UCAROL", 5, NOW, JUANA)
    (alert,) = _alerts_after(kit, third)
    assert (alert.kind, alert.user_id, alert.total, alert.limit, alert.usual) == (
        "person",
        "UCAROL",
        105,
        100,
        0,
    )
    assert [e.id for e in alert.entries] == [third, third - 1, third - 2]  # newest first
    assert _alerts_after(kit, _given(kit.store, "UCAROL", 50, NOW, JUANA)) == []  # told already


def test_a_busy_persons_usual_day_raises_their_limit(kit) -> None:
    for days_ago in range(1, 29):  # 28 usual days of 80 points (p95: 80, limit 240)
        _given(kit.store, "UCAROL", 80, NOW - dt.timedelta(days=days_ago), JUANA)
    assert _alerts_after(kit, _given(kit.store, "UCAROL", 140, NOW, JUANA)) == []  # customer
    assert _alerts_after(kit, _given(kit.store, "UCAROL", 100, NOW, 1872)) == []  # 240
    (alert,) = _alerts_after(kit, _given(kit.store, "UCAROL", 1, NOW, 1873))
    assert (alert.total, alert.limit, alert.usual) == (241, 240, 80)


def test_a_busy_persons_usual_is_read_once_a_day_not_at_each_change(kit, mocker) -> None:
    for days_ago in range(1, 29):  # 28 usual days of 80 points (p95: 80, limit 240)
        _given(kit.store, "UCAROL", 80, NOW - dt.timedelta(days=days_ago), JUANA)
    reads = mocker.spy(kit.store, "entries")
    for customer in range(1900, 1911):  # 11 x 20 = 220 today: over the floor, under 240
        assert _alerts_after(kit, _given(kit.store, "UCAROL", 20, NOW, customer)) == []
    (usual,) = reads.call_args_list
    assert usual.kwargs["user_id"] == "UCAROL" and usual.kwargs["before"] is not None
    (alert,) = _alerts_after(kit, _given(kit.store, "UCAROL", 21, NOW, 1911))
    assert (alert.total, alert.limit, alert.usual, len(alert.entries)) == (241, 240, 80, 10)
    assert reads.call_count == 2  # today's entries, to list them


def test_one_customer_gaining_too_much_in_an_hour(kit) -> None:
    _given(kit.store, "UANA", 90, NOW - dt.timedelta(minutes=70))  # over an hour ago
    _given(kit.store, "UANA", 90, NOW - dt.timedelta(minutes=30))
    (alert,) = _alerts_after(kit, _given(kit.store, "UBEN", 70, NOW))
    assert (alert.kind, alert.customer_id, alert.total, alert.limit) == ("customer", JUAN, 160, 150)
    assert [e.user_id for e in alert.entries] == ["UBEN", "UANA"]


def test_nothing_is_checked_for_deductions_failures_or_when_turned_off(sandbox, sqlite_url) -> None:
    with core_over(sandbox, sqlite_url) as core:  # the default: no alerts
        assert _alerts_after(core, _given(core.store, "UCAROL", 900, NOW)) == []
    with core_over(sandbox, sqlite_url, alerts=AlertThresholds(daily_floor=10)) as core:
        failed = core.store.record(
            user_id="UCAROL", action="points.add", outcome="failed", target_id=JUAN, at=NOW
        )
        assert _alerts_after(core, failed) == []


def test_a_manager_undoes_one_alerted_change_and_a_clerk_may_not(kit) -> None:
    from bot.domain.amounts import Op, PointsChange

    added = kit.service.change_points(Actor(MANAGER), JUAN, PointsChange(Op.ADD, 30), "x")
    assert added.entry is not None
    with pytest.raises(PermissionDenied):
        kit.service.undo_entry(Actor(CLERK), added.entry.id)
    undone = kit.service.undo_entry(Actor(MANAGER), added.entry.id)
    assert (undone.before, undone.after) == (35, 5)
    with pytest.raises(ChangeRefused, match="already undone"):
        kit.service.undo_entry(Actor(MANAGER), added.entry.id)
    assert kit.store.entry(added.entry.id).undone_at is not None


def test_another_process_never_tells_it_again(kit, sandbox, sqlite_url) -> None:
    first = _given(kit.store, "UCAROL", 150, NOW, JUANA)
    assert len(_alerts_after(kit, first)) == 1
    thresholds = AlertThresholds(factor=3.0, daily_floor=100, customer_hourly=150)
    with core_over(sandbox, sqlite_url, alerts=thresholds) as other:  # its own memory
        assert _alerts_after(other, _given(other.store, "UCAROL", 5, NOW, 1872)) == []
