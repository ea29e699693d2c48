"""Points from a sale: the program's earning rule and the promotions in force.

A rule gives `points` per `per_amount` of money (1 point per 10 MXN), rounded down by
default, nothing below a minimum sale. A promotion is a multiplier (double points) or a
fixed bonus, for some days of the week and hours of the day in the shop's time zone,
between two dates, optionally only for customers under a balance (a first-purchase bonus).
Overlapping promotions combine by one stated rule: the best one that does not stack wins,
and every one marked as stacking is added to it.

Money is Decimal, never float; the same sale at the same moment always gives the same
points; points are never negative. Times are wall-clock times in the shop's zone, so
"Tuesday 4–6 pm" stays 4–6 pm across daylight-saving changes; a window that ends before it
starts (22:00–02:00) runs past midnight and belongs to the day it starts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo


class Rounding(StrEnum):
    DOWN = "down"
    NEAREST = "nearest"  # halves up
    UP = "up"


_DECIMAL_ROUNDING = {
    Rounding.DOWN: ROUND_FLOOR,
    Rounding.NEAREST: ROUND_HALF_UP,
    Rounding.UP: ROUND_CEILING,
}


@dataclass(frozen=True)
class EarningRule:
    points: int  # this many points ...
    per_amount: Decimal  # ... for every this much spent
    currency: str = "MXN"  # shown with amounts
    rounding: Rounding = Rounding.DOWN
    minimum_sale: Decimal = Decimal(0)  # a smaller sale earns nothing

    def __post_init__(self) -> None:
        if self.points <= 0 or self.per_amount <= 0 or self.minimum_sale < 0:
            raise ValueError("an earning rule needs points > 0, an amount > 0, a minimum >= 0")

    def base_points(self, amount: Decimal) -> int:
        """The points `amount` earns by the rule alone (0 under the minimum)."""
        if amount <= 0 or amount < self.minimum_sale:
            return 0
        exact = amount * self.points / self.per_amount
        return max(0, int(exact.to_integral_value(rounding=_DECIMAL_ROUNDING[self.rounding])))


@dataclass(frozen=True)
class Promotion:
    name: str
    multiplier: Decimal = Decimal(1)  # 2: double points (the rule's points times this)
    bonus: int = 0  # points added to the sale's
    weekdays: frozenset[int] = frozenset(range(7))  # Monday is 0, as date.weekday()
    starts: dt.time | None = None  # the window's local start (None: all day)
    ends: dt.time | None = None  # its end, excluded; before `starts`: past midnight
    first_day: dt.date | None = None  # the first local day it runs, if any
    last_day: dt.date | None = None  # the last, included
    under_balance: int | None = None  # only for customers with fewer points than this
    stacking: bool = False  # added on top of the best other one, instead of competing
    paused: bool = False
    id: int = 0

    def __post_init__(self) -> None:
        if self.multiplier < 1 or self.bonus < 0:
            raise ValueError("a promotion adds points: a multiplier >= 1 and a bonus >= 0")
        if (self.starts is None) != (self.ends is None):
            raise ValueError("a promotion's hours need both a start and an end")

    def day_of(self, local: dt.datetime) -> dt.date | None:
        """The day whose window `local` (a wall-clock time) falls in; None if none."""
        if self.starts is None or self.ends is None:
            return local.date()
        now = local.time().replace(tzinfo=None, fold=0)
        if self.starts < self.ends:
            return local.date() if self.starts <= now < self.ends else None
        if now >= self.starts:  # a window past midnight: its evening part
            return local.date()
        if now < self.ends:  # ... and its early hours, which belong to the day before
            return local.date() - dt.timedelta(days=1)
        return None

    def applies(self, local: dt.datetime, balance: int) -> bool:
        if self.paused:
            return False
        if self.under_balance is not None and balance >= self.under_balance:
            return False
        day = self.day_of(local)
        if day is None or day.weekday() not in self.weekdays:
            return False
        if self.first_day is not None and day < self.first_day:
            return False
        return not (self.last_day is not None and day > self.last_day)

    def as_record(self) -> dict[str, Any]:
        """Its terms as plain values (the store's columns, and an audit entry's JSON)."""
        return {
            "name": self.name,
            "multiplier": str(self.multiplier),
            "bonus": self.bonus,
            "weekdays": "".join(str(d) for d in sorted(self.weekdays)),
            "starts": self.starts.strftime("%H:%M") if self.starts else None,
            "ends": self.ends.strftime("%H:%M") if self.ends else None,
            "first_day": self.first_day.isoformat() if self.first_day else None,
            "last_day": self.last_day.isoformat() if self.last_day else None,
            "under_balance": self.under_balance,
            "stacking": self.stacking,
            "paused": self.paused,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any], promotion_id: int = 0) -> Promotion:
        def day(name: str) -> dt.date | None:
            return dt.date.fromisoformat(record[name]) if record.get(name) else None

        def time(name: str) -> dt.time | None:
            return dt.time.fromisoformat(record[name]) if record.get(name) else None

        under = record.get("under_balance")
        return cls(
            name=str(record["name"]),
            multiplier=Decimal(str(record.get("multiplier") or 1)),
            bonus=int(record.get("bonus") or 0),
            weekdays=frozenset(int(d) for d in str(record.get("weekdays", "0123456"))),
            starts=time("starts"),
            ends=time("ends"),
            first_day=day("first_day"),
            last_day=day("last_day"),
            under_balance=None if under is None else int(under),
            stacking=bool(record.get("stacking")),
            paused=bool(record.get("paused")),
            id=promotion_id,
        )

    def extra(self, base: int) -> int:
        """What this promotion adds to a sale that earns `base` by the rule."""
        multiplied = (Decimal(base) * (self.multiplier - 1)).to_integral_value(ROUND_FLOOR)
        return max(0, int(multiplied)) + self.bonus


@dataclass(frozen=True)
class SalePoints:
    base: int  # by the rule
    extras: tuple[tuple[Promotion, int], ...] = field(default=())  # what each added

    @property
    def total(self) -> int:
        return self.base + sum(points for _, points in self.extras)


def points_for_sale(
    rule: EarningRule,
    promotions: list[Promotion] | tuple[Promotion, ...],
    amount: Decimal,
    at: dt.datetime,
    tz: ZoneInfo,
    balance: int,
) -> SalePoints:
    """The points a sale of `amount` at the moment `at` (aware) earns a customer who has
    `balance`: the rule's, plus the best promotion that does not stack (the one adding
    most; the first listed on a tie) and every one that stacks. A sale that earns nothing
    by the rule (under the minimum) earns no promotion either."""
    if at.tzinfo is None:
        raise ValueError("a sale's moment must carry its time zone")
    base = rule.base_points(amount)
    if base == 0:
        return SalePoints(0)
    local = at.astimezone(tz)
    running = [(p, p.extra(base)) for p in promotions if p.applies(local, balance)]
    competing = [(p, points) for p, points in running if not p.stacking and points > 0]
    best = max(competing, key=lambda found: found[1], default=None)
    stacked = [(p, points) for p, points in running if p.stacking and points > 0]
    return SalePoints(base, tuple(([best] if best else []) + stacked))


MOST_PROMOTIONS = 10  # running at once (paused ones count): more would confuse the till


def rule_text(rule: EarningRule) -> dict[str, str]:
    """The rule as a sale's audit entry keeps it (text: Decimals stay exact in JSON)."""
    return {
        "points": str(rule.points),
        "per": str(rule.per_amount),
        "currency": rule.currency,
        "rounding": str(rule.rounding),
        "minimum": str(rule.minimum_sale),
    }
