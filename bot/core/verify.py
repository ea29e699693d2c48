"""Records reconcile with reality: each customer's balance as the bot's records have it
(their last points change, or what was seen since) against the live balance, from the
customer list the index or the summary already holds (no extra reads).

Most differences are normal (a wallet claim, an edit in the Smart Passes dashboard) and
show in the daily summary as "changed outside the bot". A difference on a record whose
last change through the bot was made while fenced or unknown is flagged: the bot's own
chain may be wrong there, and someone should look. Once the daily summary has reported
them, the live balances are remembered (`Store.saw_balances`), so each is told once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bot.core.index.balances import Balances
from bot.store.database import Store


@dataclass(frozen=True)
class Difference:
    customer_id: int
    name: str
    recorded: int  # what the bot's records say
    live: int  # what Smart Passes says
    flagged: bool  # the last change through the bot was made while fenced or unknown

    @property
    def delta(self) -> int:
        return self.live - self.recorded


@dataclass(frozen=True)
class Verified:
    compared: int  # customers the bot has a record of, found in the list
    differences: list[Difference] = field(default_factory=list)

    @property
    def added(self) -> int:
        return sum(d.delta for d in self.differences if d.delta > 0)

    @property
    def removed(self) -> int:
        return -sum(d.delta for d in self.differences if d.delta < 0)

    @property
    def flagged(self) -> list[Difference]:
        return [d for d in self.differences if d.flagged]


def verify(store: Store, customers: Balances) -> Verified:
    """Compare; changes nothing."""
    recorded = store.recorded_balances()
    compared, differences = 0, []
    for customer_id, live in zip(customers.ids, customers.points, strict=True):
        record = recorded.get(customer_id)
        if record is None:
            continue
        compared += 1
        if live != record.balance:
            differences.append(
                Difference(customer_id, record.name, record.balance, live, record.unsure)
            )
    return Verified(compared, differences)


def remember(store: Store, verified: Verified, now: dt.datetime) -> None:
    """The differences were reported: they are the records' balances from now on."""
    store.saw_balances({d.customer_id: d.live for d in verified.differences}, now)
