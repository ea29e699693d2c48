"""Undoing a points change: a person's own last change (within the undo window), or one
change by its entry (a manager, from an alert), set back exactly, once."""

from __future__ import annotations

from contextlib import suppress

from sqlalchemy.exc import SQLAlchemyError

from bot.core.base import customer_key
from bot.core.intents import Intent
from bot.core.points import Points, PointsResult
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
from bot.domain.errors import AlreadyUndone, ChangeRefused, LoyaltyError, NotFound
from bot.domain.policy import Act
from bot.domain.say import N_, Duration, Name, Say


class Undo(Points):
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
            raise AlreadyUndone(Say("Nothing to undo: {what} was already undone.", what=what))
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
                    age=Duration(age),
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
            raise AlreadyUndone(Say("Nothing to undo: {what} was already undone.", what=what))
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
                raise AlreadyUndone(Say("Nothing to undo: {what} was already undone.", what=what))
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
