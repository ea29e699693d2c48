"""Exports for managers: the customer list (or a search of it) and the history of
changes, read one record at a time so that a program of any size is never held whole in
memory twice (the list comes from the lookup index, the history from a cursor)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

from bot.core.base import ServiceBase
from bot.domain.audit import Actor, AuditEntry
from bot.domain.policy import Act
from bot.smartpasses.models import Customer

MOST_DAYS = 999  # the history export's longest window, in days


class Exports(ServiceBase):
    def today(self) -> dt.date:
        """The shop's date now (in LOYALTY_TIMEZONE): what a file's name says."""
        return self._clock().astimezone(self.tz).date()

    def export_customers(self, actor: Actor, query: str = "") -> Sequence[Customer]:
        """Every customer by name, or those a search matches (as `customers <search>`);
        each record is made as it is read."""
        self.roles.require(actor.user_id, Act.EXPORT, team_id=actor.team_id)
        return self.index.search(query) if query.strip() else self.index.all()

    def export_history(
        self,
        actor: Actor,
        days: int,
        customer_id: int | None = None,
        *,
        before_today: bool = False,
    ) -> Iterator[AuditEntry]:
        """The changes of the last `days` days (of one customer, if given), oldest first:
        the shop's days, as a person counts them (1 is today since midnight, 7 today and
        the 6 days before), not periods of 24 hours back from now. `before_today`: those
        days without today (`yesterday` is 2 days before today)."""
        self.roles.require(actor.user_id, Act.EXPORT, team_id=actor.team_id)
        today = dt.datetime.combine(self.today(), dt.time(), self.tz)
        since = today - dt.timedelta(days=max(1, min(days, MOST_DAYS)) - 1)
        until = today if before_today else None
        return self.store.stream_entries(since=since, until=until, target_id=customer_id)
