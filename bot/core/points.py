"""Points: adding, deducting and setting them (within the clerk allowance), and redeeming
a reward. Every change goes through the ledger (undoing one: bot.core.undo)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from bot.core.base import ServiceBase, customer_key
from bot.core.intents import Done, Intent
from bot.core.outcomes import points_applied
from bot.domain.amounts import Op, PointsChange
from bot.domain.audit import (
    Action,
    Actor,
    AuditEntry,
    Target,
)
from bot.domain.errors import (
    ChangeRefused,
    LoyaltyError,
    OverAllowance,
)
from bot.domain.policy import Act
from bot.domain.say import N_, Command, Name, Say, status
from bot.domain.text_keys import fold
from bot.smartpasses.models import Customer, Offer

# A clerk's day over the allowance: with some of it left, or none.
_DAY_PARTLY_USED = N_(
    "Clerks can add at most {most:,} points a day, and you have added {used:,} today, so "
    "{left:,} more can be added."
)
_DAY_USED_UP = N_(
    "Clerks can add at most {most:,} points a day, and you have added {used:,} today: no "
    "more can be added until tomorrow."
)

_ACTION_FOR = {
    Op.ADD: Action.POINTS_ADD,
    Op.DEDUCT: Action.POINTS_DEDUCT,
    Op.SET: Action.POINTS_SET,
}
_VERB_FOR = {  # what a points change is doing, for the sentences about it
    Op.ADD: N_("Adding {amount:,} points for {name}"),
    Op.DEDUCT: N_("Deducting {amount:,} points for {name}"),
    Op.SET: N_("Setting {name}'s points to {amount:,}"),
}


@dataclass(frozen=True)
class PointsResult:
    customer: Customer
    before: int
    after: int
    reason: str
    entry: AuditEntry | None
    actor: Actor
    remarks: list[Say] = field(default_factory=list)  # what the person should also know
    offer: Offer | None = None  # the reward, for a redemption

    @property
    def delta(self) -> int:
        return self.after - self.before


class Points(ServiceBase):
    def change_points(
        self,
        actor: Actor,
        customer_id: int,
        change: PointsChange,
        reason: str = "",
        *,
        shown_balance: int | None = None,
    ) -> PointsResult:
        """Apply `change` to the balance as it is now. `shown_balance` is what a form
        showed: setting a balance that has moved since is refused; adding or deducting
        applies to the new balance and says so."""
        # The one role check of a points change (a refusal is recorded with its act and
        # actor; the customer's history lists changes, not refused attempts).
        self.roles.require(
            actor.user_id,
            Act.ADD_POINTS if change.op is Op.ADD else Act.CHANGE_POINTS,
            team_id=actor.team_id,
        )
        if change.op is not Op.ADD:
            return self._change_points(actor, customer_id, change, reason, shown_balance)
        with self.within_allowance(actor, customer_id, change.amount):
            return self._change_points(actor, customer_id, change, reason, shown_balance)

    @contextmanager
    def within_allowance(
        self, actor: Actor, customer_id: int, points: int, earned: Say | None = None
    ) -> Iterator[None]:
        """A clerk's add counted against the clerk allowance first (OverAllowance when it
        does not fit), and given back if the change then fails proving nothing was added.
        Managers are not counted. `earned`: where the points come from, said first in a
        refusal (a sale's points are not what the clerk typed)."""
        reserved = None
        if not self.roles.is_manager(actor.user_id):
            reserved = self._clerk_adds(actor, customer_id, points, earned)
        try:
            yield
        except LoyaltyError as exc:
            if reserved is not None and exc.safe_to_retry:  # nothing was added
                with suppress(LoyaltyError):
                    self.store.release_clerk_points(actor.user_id, reserved, points)
            raise

    def _clerk_adds(
        self, actor: Actor, customer_id: int, amount: int, earned: Say | None = None
    ) -> str | None:
        """Check a clerk's add against the clerk allowance and count it against the day's
        total (the local day it was counted on, or None when there is no daily total).
        OverAllowance, recorded, when it does not fit."""
        allowance = self.roles.allowance
        why = None
        day = None
        if amount > allowance.per_change:
            why = Say(
                "Clerks can add at most {most:,} points in one change.", most=allowance.per_change
            )
        elif allowance.per_day:
            day = self._clock().astimezone(self.tz).date().isoformat()
            if not self.store.reserve_clerk_points(actor.user_id, day, amount, allowance.per_day):
                used = self.store.clerk_points_on(actor.user_id, day)
                left = allowance.per_day - used
                why = Say(
                    _DAY_PARTLY_USED if left > 0 else _DAY_USED_UP,
                    most=allowance.per_day,
                    used=used,
                    left=left,
                )
        if why is not None:
            if earned is not None:
                why = Say("{earned} {why}", earned=earned, why=why)
            self.ledger.refuse(
                actor,
                Intent(Action.REFUSED, Target.CUSTOMER, customer_id, "", requested=f"+{amount}"),
                why,
            )
            raise OverAllowance(why, self.roles.managers_said())
        return day

    def _change_points(
        self,
        actor: Actor,
        customer_id: int,
        change: PointsChange,
        reason: str,
        shown_balance: int | None,
    ) -> PointsResult:
        with self.ledger.locked(customer_key(customer_id), N_("this customer's points"), actor):
            customer = self.customer(customer_id)  # the balance read under the lock
            old, name = customer.points, Name(customer.display_name)
            intent = Intent(
                _ACTION_FOR[change.op],
                Target.CUSTOMER,
                customer.id,
                customer.display_name,
                before=old,
                requested=str(change),
                reason=reason,
            )
            moved = shown_balance is not None and shown_balance != old
            refusal = self._refusal(name, change, old, change.new_balance(old))
            if moved and change.op is Op.SET:
                refusal = Say(
                    "{name}'s balance changed to {old:,} after the form was opened (it showed "
                    "{shown:,}), so it was not set to {amount:,}. Nothing was changed; look at "
                    "the new balance and try again.",
                    name=name,
                    old=old,
                    shown=shown_balance,
                    amount=change.amount,
                )
            if refusal:
                self.ledger.refuse(actor, intent, refusal)
                raise ChangeRefused(refusal)
            done = self._points_call(actor, intent, change)
        self.index.upsert(done.value)
        remarks = done.remarks
        if moved:
            remarks = [
                Say(
                    "The balance had changed to {old:,} since the form showed {shown:,}; the "
                    "change was applied to {old:,}.",
                    old=old,
                    shown=shown_balance,
                ),
                *remarks,
            ]
        return PointsResult(done.value, old, done.value.points, reason, done.entry, actor, remarks)

    def _points_call(self, actor: Actor, intent: Intent, change: PointsChange) -> Done[Customer]:
        """Record, send, settle: under the customer's lock, which the caller holds."""
        customer_id = intent.target_id
        assert customer_id is not None and intent.before is not None
        new = change.new_balance(intent.before)
        pending = self.ledger.begin(actor, intent)
        if change.op is Op.ADD:

            def send() -> Customer | None:
                return self.api.add_points(customer_id, change.amount)
        else:

            def send() -> Customer | None:
                return self.api.update_customer(customer_id, points=new)

        name = Name(intent.target_name)
        what = Say(_VERB_FOR[change.op], amount=change.amount, name=name)
        if intent.action == Action.POINTS_UNDO:
            what = Say("Undoing the change for {name} (back to {new:,} points)", name=name, new=new)
        elif intent.action == Action.POINTS_SALE:
            what = Say(
                "Adding {amount:,} points for {name}'s sale", amount=change.amount, name=name
            )
        elif intent.action == Action.POINTS_REDEEM:
            what = Say(
                "Redeeming “{offer}” for {name} ({amount:,} points)",
                offer=Name(intent.reason),
                name=name,
                amount=change.amount,
            )
        return self.ledger.carry_out(
            pending,
            send,
            lambda: points_applied(self.api, intent),
            what=what,
            look_hint=Say(
                "{name}'s balance ({card})",
                name=name,
                card=Command("customer", str(customer_id)),
            ),
            completion=lambda c: {"after": c.points, "target_name": c.display_name},
        )

    def _refusal(self, name: Name, change: PointsChange, old: int, new: int) -> Say | None:
        if new < 0:
            return Say(
                "{name} has {old:,} points, so deducting {amount:,} would leave {new:,}. "
                "Balances cannot go below zero; nothing was changed.",
                name=name,
                old=old,
                amount=change.amount,
                new=new,
            )
        if change.op is Op.SET and new == old:
            return Say(
                "{name} already has {old:,} points; nothing was changed.", name=name, old=old
            )
        if abs(new - old) > self.max_points:
            return Say(
                "Setting {name} to {new:,} would change the balance by {by:,} points, more "
                "than the largest single change allowed ({most:,}).",
                name=name,
                new=new,
                by=abs(new - old),
                most=self.max_points,
            )
        return None

    def redeem(self, actor: Actor, customer_id: int, offer_id: int) -> PointsResult:
        """Redeem a Published offer for a customer: its cost deducted from the balance,
        under the customer's lock like every points change, once."""
        self.roles.require(actor.user_id, Act.REDEEM, team_id=actor.team_id)
        offer = self.offer(offer_id)
        if not offer.is_published:
            raise ChangeRefused(
                Say(
                    "“{name}” is {status}: only Published offers can be redeemed. Nothing was "
                    "changed.",
                    name=Name(offer.name),
                    status=status(offer.status or "draft"),
                )
            )
        if offer.points_cost <= 0:
            raise ChangeRefused(
                Say(
                    "“{name}” costs no points, so there is nothing to redeem.",
                    name=Name(offer.name),
                )
            )
        change = PointsChange(Op.DEDUCT, offer.points_cost)
        with self.ledger.locked(customer_key(customer_id), N_("this customer's points"), actor):
            customer = self.customer(customer_id)  # the balance read under the lock
            intent = Intent(
                Action.POINTS_REDEEM,
                Target.CUSTOMER,
                customer.id,
                customer.display_name,
                before=customer.points,
                requested=str(change),
                reason=offer.name,
                changes={"offer_id": [None, offer.id]},
            )
            if customer.points < offer.points_cost:
                short = Say(
                    "{name} has {old:,} points and “{offer}” costs {cost:,}: {missing:,} more "
                    "points are needed. Nothing was changed.",
                    name=Name(customer.display_name),
                    old=customer.points,
                    offer=Name(offer.name),
                    cost=offer.points_cost,
                    missing=offer.points_cost - customer.points,
                )
                self.ledger.refuse(actor, intent, short)
                raise ChangeRefused(short)
            done = self._points_call(actor, intent, change)
        self.index.upsert(done.value)
        return PointsResult(
            done.value,
            customer.points,
            done.value.points,
            offer.name,
            done.entry,
            actor,
            done.remarks,
            offer,
        )

    def redeemable(self, customer: Customer) -> list[Offer]:
        """The Published offers, those the customer can afford first (cheapest first)."""
        offers = [o for o in self.api.list_offers() if o.is_published and o.points_cost > 0]
        return sorted(
            offers, key=lambda o: (o.points_cost > customer.points, o.points_cost, fold(o.name))
        )
