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
