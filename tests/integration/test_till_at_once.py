"""Two clerks at the till at once: the daily total and a balance are never overdrawn."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.core import AS_CLERK, AS_MANAGER, told
from tests.demo import ANA, CAFE, JUAN, JUANA, LUIS, SOFIA
from tests.harness import CLERK
from tests.unit import test_till as unit

# The unit module's fixtures and helpers, shared.
add = unit.add
clock = unit.clock
till = unit.till
today = unit.today


def test_simultaneous_clerk_adds_never_pass_the_daily_total(till, clock) -> None:
    """Ten adds of 10 at once for different customers: exactly five fit under 50."""
    customers = [JUAN, JUANA, ANA, LUIS, SOFIA] * 2
    before = {c: till.points(c) for c in set(customers)}

    def try_add(customer_id: int) -> bool:
        try:
            till.service.change_points(AS_CLERK, customer_id, add(10))
            return True
        except Exception:
            return False

    with ThreadPoolExecutor(10) as pool:
        made = sum(pool.map(try_add, customers))
    assert made == 5
    assert sum(till.points(c) - before[c] for c in before) == 50
    assert till.store.clerk_points_on(CLERK, today(clock)) == 50


def test_two_redemptions_at_once_never_overdraw(till) -> None:
    """Ana has 25 points; three redemptions of a 10-point reward at once: two go through,
    the third is refused as short, and the balance is exactly 5."""
    with ThreadPoolExecutor(3) as pool:
        outcomes = list(
            pool.map(lambda _i: told(lambda: till.service.redeem(AS_MANAGER, ANA, CAFE)), range(3))
        )
    assert sum("more points are needed" in o for o in outcomes) == 1
    assert till.points(ANA) == 5
    assert len(till.store.entries(target_id=ANA, outcome="ok")) == 2
