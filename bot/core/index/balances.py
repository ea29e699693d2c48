"""Every customer's balance, and the customers with the most points: what a summary reads
of the customer list.

A summary counts customers, sums and compares balances, and names the few that lead; it
never needs anyone else's name. So it need not wait for the whole list to be parsed
(bot.core.index.customer_list: every text field, a few times the work): here only each
record's id and points are decoded (msgspec, in C, a few thousand records at a time), and
the leaders' records whole. Read-only, like the customer list.
"""

from __future__ import annotations

import itertools
import operator
from array import array
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

import msgspec

from bot.core.index.customer_list import (
    BATCH,
    CustomerList,
    int_column,
    leading_rows,
    rank,
    raw_records,
    strictly_ascending,
)

if TYPE_CHECKING:
    from bot.smartpasses.models import Customer

LEADERS = 20  # the leaders' records kept whole
SURE = 10  # `top(count)` answers any count up to this (writes may make fewer leaders known)


class Balances(Protocol):
    """Each customer's id and points, in the same order (a BalanceList, a CustomerList)."""

    @property
    def ids(self) -> Sequence[int]: ...

    @property
    def points(self) -> Sequence[int]: ...


class _Balance(msgspec.Struct, gc=False):
    """What a summary reads of one customer's record (other fields skipped, in C)."""

    id: int
    points: int | None = None


_DECODE = msgspec.json.Decoder(list[_Balance])


class BalanceList:
    """Ids and points as two arrays (a customer listed twice: the later row), and the
    `LEADERS` customers with the most points as a small CustomerList, in rank order."""

    __slots__ = ("ids", "leaders", "points")

    def __init__(self, ids: array[int], points: array[int], leaders: CustomerList) -> None:
        self.ids, self.points, self.leaders = ids, points, leaders

    @classmethod
    def from_json(cls, body: bytes) -> BalanceList:
        """The API's list, as CustomerList.from_json takes it (a JSON array, or an object
        wrapping it under `data`). A list with anything unusual in an id or a balance (a
        number as a string, say) is read by the customer list's own parse, with its
        coercions and errors (ValueError); the leaders' records always are (snake_case
        names too: they are spelled the same in both)."""
        try:
            raw = raw_records(body)
            ids, points = array("q"), array("q")
            for start in range(0, len(raw), BATCH):
                batch = _DECODE.decode(b"[%s]" % b",".join(raw[start : start + BATCH]))
                ids.extend(int_column(map(operator.attrgetter("id"), batch)))
                listed = list(map(operator.attrgetter("points"), batch))
                points.extend(int_column([p or 0 for p in listed] if None in listed else listed))
        except msgspec.ValidationError:
            return cls.of(CustomerList.from_json(body).unique())
        except msgspec.DecodeError:
            raise ValueError("not JSON") from None
        if not strictly_ascending(ids) and len(set(ids)) != len(ids):  # the later row
            rows = sorted({cid: row for row, cid in enumerate(ids)}.values())
            ids, points = (
                int_column(map(ids.__getitem__, rows)),
                int_column(map(points.__getitem__, rows)),
            )
            raw = list(map(raw.__getitem__, rows))
        leading = leading_rows(ids, points, LEADERS)
        leaders = CustomerList.from_json(b"[%s]" % b",".join(map(raw.__getitem__, leading)))
        return cls(ids, points, leaders)

    @classmethod
    def of(cls, customers: CustomerList) -> BalanceList:
        """A parsed list's balances (its arrays shared: neither is ever changed)."""
        return cls(
            customers.ids,
            customers.points,
            customers.take(leading_rows(customers.ids, customers.points, LEADERS)),
        )

    def __len__(self) -> int:
        return len(self.ids)

    def __reduce__(self) -> tuple[type[BalanceList], tuple[object, ...]]:
        return BalanceList, (self.ids, self.points, self.leaders)

    def top(self, count: int) -> list[Customer]:
        """The `count` customers with the most points (ties: the oldest id first), for
        any count up to SURE."""
        if count > len(self.leaders) and len(self.leaders) < len(self):
            raise ValueError(f"only the first {len(self.leaders)} customers by points are known")
        return self.leaders[: max(count, 0)]

    def with_writes(self, latest: Mapping[int, Customer | None]) -> BalanceList | None:
        """These balances with the bot's writes made since the list was read (each
        customer as last written; None: deleted), or None if those writes leave fewer
        than SURE leaders known (most of them changed while the list was read: the
        caller waits for the whole list instead)."""
        if not latest:
            return self
        kept = [row for row, customer_id in enumerate(self.ids) if customer_id not in latest]
        written = [customer for customer in latest.values() if customer is not None]
        ids = int_column(itertools.chain(map(self.ids.__getitem__, kept), (c.id for c in written)))
        points = int_column(
            itertools.chain(map(self.points.__getitem__, kept), (c.points for c in written))
        )
        known = [c for c in self.leaders if c.id not in latest]
        ranked = sorted([*known, *written], key=lambda c: rank(c.id, c.points))
        if len(self.leaders) < len(self):  # anyone not listed ranks below the last leader
            last = self.leaders[-1]
            ranked = [c for c in ranked if rank(c.id, c.points) <= rank(last.id, last.points)]
            if len(ranked) < SURE:
                return None
        return BalanceList(ids, points, CustomerList.of(ranked[:LEADERS]))
