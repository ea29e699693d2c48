"""Points: adding, deducting and setting them (within the clerk allowance), undoing the
last change, and redeeming a reward. Every change goes through the ledger."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from bot.core.base import ServiceBase, customer_key
from bot.core.intents import Done, Intent
from bot.core.outcomes import points_applied
from bot.domain.amounts import Op, PointsChange
from bot.domain.audit import (
    GIVING_ACTIONS,
    POINTS_ACTIONS,
    Action,
    Actor,
    AuditEntry,
    Outcome,
    Target,
)
from bot.domain.errors import (
    ChangeRefused,
    LoyaltyError,
    NotFound,
    OverAllowance,
)
from bot.domain.policy import Act
from bot.domain.say import N_, Command, Name, Say, status
from bot.domain.text_keys import fold
from bot.smartpasses.models import Customer, Offer

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
    def within_allowance(self, actor: Actor, customer_id: int, points: int) -> Iterator[None]:
        """A clerk's add counted against the clerk allowance first (OverAllowance when it
        does not fit), and given back if the change then fails proving nothing was added.
        Managers are not counted."""
        reserved = None
        if not self.roles.is_manager(actor.user_id):
            reserved = self._clerk_adds(actor, customer_id, points)
        try:
            yield
        except LoyaltyError as exc:
            if reserved is not None and exc.safe_to_retry:  # nothing was added
                with suppress(LoyaltyError):
                    self.store.release_clerk_points(actor.user_id, reserved, points)
            raise

    def _clerk_adds(self, actor: Actor, customer_id: int, amount: int) -> str | None:
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
                why = Say(
                    "Clerks can add at most {most:,} points a day, and you have added {used:,} "
                    "today, so {left:,} more can be added.",
                    most=allowance.per_day,
                    used=used,
                    left=max(0, allowance.per_day - used),
                )
        if why is not None:
            self.ledger.refuse(
                actor,
                Intent(Action.REFUSED, Target.CUSTOMER, customer_id, "", requested=f"+{amount}"),
                str(why),
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
                self.ledger.refuse(actor, intent, str(refusal))
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

    def undo_last(self, actor: Actor) -> PointsResult:
        recent = self.store.entries(
            user_id=actor.user_id,
            actions=[a for a in POINTS_ACTIONS if a != Action.POINTS_UNDO],
            outcome="ok",
            limit=1,
        )
        if not recent:  # said first: a refusal to undo nothing would only confuse
            raise ChangeRefused(Say("You have no points change to undo."))
        self.roles.require(actor.user_id, Act.UNDO, team_id=actor.team_id)
        manager = self.roles.is_manager(actor.user_id)
        entry = recent[0]
        what = Say(
            "your last change ({delta:+,} points for {name})",
            delta=(entry.after or 0) - (entry.before or 0),
            name=Name(entry.target_name),
        )
        if entry.undone_at is not None:
            raise ChangeRefused(Say("Nothing to undo: {what} was already undone.", what=what))
        if entry.action not in GIVING_ACTIONS:  # clerks may undo only what they may do
            self.roles.require(
                actor.user_id,
                Act.UNDO_ANY_CHANGE,
                team_id=actor.team_id,
                target_type=Target.CUSTOMER,
                target_id=entry.target_id,
                target_name=entry.target_name,
            )
        age = self._clock() - entry.at
        if age > self.undo_window:
            raise ChangeRefused(
                Say(
                    "Too late to undo {what}: it was made {age} ago, and only changes from the "
                    "last {minutes} minutes can be undone. Change the points by hand instead.",
                    what=what,
                    age=_ago(age),
                    minutes=int(self.undo_window.total_seconds() // 60),
                )
            )
        return self._reverse(actor, entry, what, manager)

    def undo_entry(self, actor: Actor, entry_id: int) -> PointsResult:
        """A manager undoes one points change (an alert's Undo button): at any time, as
        long as the balance is still what that change left (so the undo is exact)."""
        self.roles.require(actor.user_id, Act.UNDO_ANY_CHANGE, team_id=actor.team_id)
        entry = self.store.entry(entry_id)
        if (
            entry is None
            or entry.action not in POINTS_ACTIONS
            or entry.action == Action.POINTS_UNDO
            or entry.outcome != Outcome.OK
            or entry.before is None
        ):
            raise ChangeRefused(Say("That change cannot be undone: it changed no points."))
        what = Say(
            "change #{id} ({delta:+,} points for {name})",
            id=entry.id,
            delta=(entry.after or 0) - entry.before,
            name=Name(entry.target_name),
        )
        if entry.undone_at is not None:
            raise ChangeRefused(Say("Nothing to undo: {what} was already undone.", what=what))
        return self._reverse(actor, entry, what, manager=True)

    def _reverse(self, actor: Actor, entry: AuditEntry, what: Say, manager: bool) -> PointsResult:
        """Set the balance back to what it was before `entry`, under the customer's lock,
        if it is still what `entry` left; the entry marked undone once."""
        assert entry.target_id is not None and entry.before is not None
        with self.ledger.locked(customer_key(entry.target_id), N_("this customer's points"), actor):
            try:
                current = self.customer(entry.target_id)
            except NotFound:
                raise ChangeRefused(
                    Say("Cannot undo {what}: the customer no longer exists.", what=what)
                ) from None
            if current.points != entry.after:
                raise ChangeRefused(
                    Say(
                        "Cannot undo {what}: the balance changed since (it is now {now:,}, your "
                        "change left {left:,}). Nothing was changed.",
                        what=what,
                        now=current.points,
                        left=entry.after,
                    )
                )
            if not self.store.claim_undo(entry.id):
                raise ChangeRefused(Say("Nothing to undo: {what} was already undone.", what=what))
            change = PointsChange(Op.SET, entry.before)
            intent = Intent(
                Action.POINTS_UNDO,
                Target.CUSTOMER,
                current.id,
                current.display_name,
                before=current.points,
                requested=str(change),
                reason=f"undo of change #{entry.id}",
            )
            try:
                done = self._points_call(actor, intent, change)
            except LoyaltyError as exc:
                if exc.safe_to_retry:  # nothing changed: the change can be undone later
                    with suppress(SQLAlchemyError):
                        self.store.release_undo(entry.id)
                raise
        self.index.upsert(done.value)
        if entry.action in GIVING_ACTIONS and not manager and self.roles.allowance.per_day:
            day = entry.at.astimezone(self.tz).date().isoformat()
            with suppress(LoyaltyError):  # an undone add no longer counts against the day
                self.store.release_clerk_points(entry.user_id, day, entry.delta or 0)
        return PointsResult(
            done.value,
            current.points,
            done.value.points,
            intent.reason,
            done.entry,
            actor,
            done.remarks,
        )

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
                self.ledger.refuse(actor, intent, str(short))
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


def _ago(age: dt.timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} minutes"
    hours = minutes // 60
    return f"{hours} hours" if hours < 48 else f"{hours // 24} days"
