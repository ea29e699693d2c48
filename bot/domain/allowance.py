"""The clerk allowance: how many points someone who is not a manager may add.

`per_change` caps one change (0: clerks may not add at all, the default); `per_day` caps a
clerk's total for the day in the shop's time zone (0: no daily total). Deducting, setting
a balance and deleting stay with managers whatever the allowance.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClerkAllowance:
    per_change: int = 0
    per_day: int = 0

    @property
    def open(self) -> bool:
        """Clerks may add points (and redeem rewards) at all."""
        return self.per_change > 0


MANAGERS_ONLY = ClerkAllowance()  # the default: only managers add points


@dataclass(frozen=True)
class AlertThresholds:
    """When the managers are told about points given far beyond the usual
    (bot.core.alerts): a person's day over `factor` times their usual and over
    `daily_floor` (0: never); a customer gaining over `customer_hourly` in an hour (0:
    never)."""

    factor: float = 3.0
    daily_floor: int = 200
    customer_hourly: int = 500


NO_ALERTS = AlertThresholds(daily_floor=0, customer_hourly=0)
