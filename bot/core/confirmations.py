"""Deleting a customer or an offer and canceling an offer: asked, then confirmed by a
manager with a one-time token, then done once through the ledger."""

from __future__ import annotations

from typing import Any

from bot.core.base import ServiceBase, customer_key, offer_key
from bot.core.intents import Done, Intent
from bot.core.outcomes import (
    DELETED,
    was_applied,
)
from bot.domain.audit import (
    Action,
    Actor,
    Changes,
)
from bot.domain.errors import (
    AlreadyDone,
    ChangeRefused,
    NotFound,
)
from bot.domain.policy import Act
from bot.domain.records import ConfirmationState
from bot.domain.say import N_, Command, Name, Person, Say, status

CUSTOMER_DELETE, OFFER_DELETE, OFFER_CANCEL = (
    Action.CUSTOMER_DELETE,
    Action.OFFER_DELETE,
    Action.OFFER_CANCEL,
)
# What each confirmation does, in the policy's words.
CONFIRMABLE = {
    CUSTOMER_DELETE: Act.DELETE_CUSTOMER,
    OFFER_DELETE: Act.DELETE_OFFER,
    OFFER_CANCEL: Act.CANCEL_OFFER,
}


class Confirmations(ServiceBase):
    def confirmable(self, kind: Action, target_id: int) -> str:
        """Refuse what cannot work before anyone confirms it; returns the target's name."""
        if kind == CUSTOMER_DELETE:
            return self.customer(target_id).display_name
        offer = self.offer(target_id)
        if kind == OFFER_DELETE and not offer.is_draft:
            raise ChangeRefused(
                Say(
                    "“{name}” is {status}: only Draft offers can be deleted. Cancel it instead: "
                    "{cancel}.",
                    name=Name(offer.name),
                    status=status(offer.status),
                    cancel=Command("offer cancel"),
                )
                if offer.is_published
                else Say(
                    "“{name}” is {status}: only Draft offers can be deleted.",
                    name=Name(offer.name),
                    status=status(offer.status),
                )
            )
        if kind == OFFER_CANCEL and not offer.is_published:
            raise ChangeRefused(
                Say(
                    "“{name}” is {status}: only Published offers can be canceled.",
                    name=Name(offer.name),
                    status=status(offer.status),
                )
            )
        return offer.name

    def ask_to_confirm(self, actor: Actor, kind: Action, target_id: int) -> tuple[str, str]:
        """Check role and state, then store a pending confirmation: (token, target name)."""
        self.roles.require(
            actor.user_id,
            CONFIRMABLE[kind],
            team_id=actor.team_id,
            target_type=Action(kind).target_type,
            target_id=target_id,
        )
        name = self.confirmable(kind, target_id)
        token = self.store.add_confirmation(
            kind=kind, target_id=target_id, target_name=name, requested_by=actor.user_id
        )
        return token, name

    def confirm(self, actor: Actor, token: str) -> Done[Any]:
        """Do what a confirmation button names, once."""
        pending = self.store.confirmation(token)
        if pending is None:
            raise AlreadyDone(Say("That confirmation is no longer valid; nothing was changed."))
        action = Action(pending.kind)
        self.roles.require(
            actor.user_id,
            CONFIRMABLE[action],
            team_id=actor.team_id,
            target_type=action.target_type,
            target_id=pending.target_id,
            target_name=pending.target_name,
        )
        if not self.store.claim_confirmation(token):
            latest = self.store.confirmation(token)
            if latest is not None and latest.state == ConfirmationState.DONE:
                raise AlreadyDone(
                    Say(
                        "That was already done by {who}; nothing more was changed.",
                        who=Person(latest.done_by),
                    )
                    if latest.done_by
                    else Say("That was already done; nothing more was changed.")
                )
            raise AlreadyDone(Say("Someone is doing that right now; nothing more was changed."))
        try:
            done = self._confirmed(actor, action, pending.target_id)
        except NotFound:
            self.store.finish_confirmation(token, done=True, user_id=actor.user_id)
            raise AlreadyDone(
                Say(
                    "{name} no longer exists; nothing was changed.",
                    name=Name(pending.target_name),
                )
            ) from None
        except Exception:  # any failure: the button works again, and first re-reads the record
            self.store.finish_confirmation(token, done=False, user_id=actor.user_id)
            raise
        self.store.finish_confirmation(token, done=True, user_id=actor.user_id)
        return done

    def _confirmed(self, actor: Actor, action: Action, target_id: int) -> Done[Any]:
        """Delete a customer, delete an offer or cancel one, under its record's lock."""
        key = customer_key(target_id) if action == CUSTOMER_DELETE else offer_key(target_id)
        with self.ledger.locked(key, N_("this record"), actor):
            if action == CUSTOMER_DELETE:
                customer = self.customer(target_id)
                name = customer.display_name
                changes: Changes = {"points": [customer.points, None]}
                hint = Say("{card}", card=Command("customer", str(target_id)))
            else:
                name = self.confirmable(action, target_id)
                changes = {"status": ["Draft", None]}
                hint = Say("{list}", list=Command("offers"))
                if action == OFFER_CANCEL:
                    changes = {"status": ["Published", "Canceled"]}
            intent = Intent(action, action.target_type, target_id, name, changes=changes)
            pending = self.ledger.begin(actor, intent)
            done = self.ledger.carry_out(
                pending,
                lambda: self._send_confirmed(action, target_id),
                lambda: was_applied(self.api, intent),
                what=(
                    Say("Canceling {name}", name=Name(name))
                    if action == OFFER_CANCEL
                    else Say("Deleting {name}", name=Name(name))
                ),
                look_hint=hint,
            )
        if action == CUSTOMER_DELETE:
            self.index.remove(target_id)
        return done

    def _send_confirmed(self, action: Action, target_id: int) -> Any:
        if action == CUSTOMER_DELETE:
            self.api.delete_customer(target_id)
        elif action == OFFER_DELETE:
            self.api.delete_offer(target_id)
        else:
            self.api.cancel_offer(target_id)
        return DELETED  # any 2xx: done (no record needed)
