"""What the records say each balance is, and the balances last seen live (verify)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from bot.domain.audit import (
    POINTS_ACTIONS,
    Outcome,
    as_utc,
)
from bot.store.base import StoreBase
from bot.store.schema import (
    audit_log,
    balances_seen,
)


@dataclass(frozen=True)
class RecordedBalance:
    """A customer's balance as the bot's records have it."""

    balance: int
    name: str
    unsure: bool  # the last change was made while fenced or unknown


class Balances(StoreBase):
    def recorded_balances(self) -> dict[int, RecordedBalance]:
        """For every customer the bot changed: the balance its records say they have (the
        last points change's, or what verify saw since), and whether that change was
        made while fenced or unknown (settled later, or never)."""
        points = [str(a) for a in POINTS_ACTIONS]
        latest = (
            sa.select(sa.func.max(audit_log.c.id).label("id"))
            .where(
                self._mine(audit_log),
                audit_log.c.target_type == "customer",
                audit_log.c.action.in_(points),
                audit_log.c.outcome.in_([Outcome.OK, Outcome.UNKNOWN, Outcome.PENDING]),
            )
            .group_by(audit_log.c.target_id)
            .subquery()
        )
        query = sa.select(
            audit_log.c.target_id,
            audit_log.c.target_name,
            audit_log.c.before,
            audit_log.c.after,
            audit_log.c.outcome,
            audit_log.c.resolved,
            audit_log.c.fence,
            audit_log.c.at,
        ).join(latest, audit_log.c.id == latest.c.id)
        seen_query = sa.select(
            balances_seen.c.customer_id, balances_seen.c.balance, balances_seen.c.seen_at
        ).where(balances_seen.c.team_id == self._team)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            seen = {int(c): (int(b), as_utc(at)) for c, b, at in conn.execute(seen_query)}
        found: dict[int, RecordedBalance] = {}
        for customer, name, before, after, outcome, resolved, fence, at in rows:
            unsure = outcome != Outcome.OK or bool(fence) or resolved == "reconciled"
            balance = after if after is not None else before
            if balance is None:
                continue
            later = seen.get(int(customer))
            if later is not None and later[1] >= as_utc(at):
                balance, unsure = later[0], False  # seen since, and reported then
            found[int(customer)] = RecordedBalance(int(balance), str(name), unsure)
        return found

    def saw_balances(self, balances: dict[int, int], now: dt.datetime) -> None:
        """Remember the live balances verify reported, so each difference is told once."""
        if not balances:
            return
        from sqlalchemy.dialects import postgresql, sqlite

        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        with self.engine.begin() as conn:
            for customer, balance in balances.items():
                insert = dialect.insert(balances_seen).values(
                    team_id=self._team, customer_id=customer, balance=balance, seen_at=now
                )
                conn.execute(
                    insert.on_conflict_do_update(
                        index_elements=["team_id", "customer_id"],
                        set_={"balance": balance, "seen_at": now},
                    )
                )
