"""Creating and editing a record (customer or offer) through the ledger: the steps the
customer and offer features share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from bot.core.base import ServiceBase, values_of
from bot.core.intents import Done, Intent
from bot.domain.audit import (
    Action,
    Actor,
    Target,
    field_changes,
)
from bot.domain.errors import (
    NotFound,
    StaleForm,
)
from bot.domain.say import Code, Name, Say, noun
from bot.smartpasses.client import LoyaltyClient
from bot.smartpasses.models import Customer, Offer

_Editable = TypeVar("_Editable", Customer, Offer)


def _taken(what: str, owner: Customer | Offer) -> Say:
    """`what`: our words for the field ("This email"), translated with the sentence."""
    return Say(
        "{what} already belongs to {name} ({id}).",
        what=noun(what),
        name=Name(_name_of(owner)),
        id=Code(f"#{owner.id}"),
    )


def _name_of(record: Customer | Offer) -> str:
    return record.display_name if isinstance(record, Customer) else record.name


class RecordWrites(ServiceBase):
    def _create(
        self,
        actor: Actor,
        action: Action,
        name: str,
        wanted: dict[str, Any],
        known: set[int],
        send: Callable[[], _Editable | None],
        find_out: Callable[[LoyaltyClient, Intent], _Editable | None],
        look_hint: Say,
    ) -> Done[_Editable]:
        """Create a record (under its creation lock, which the caller holds). `known` are
        the records that already matched it, which the check must not mistake for it."""
        intent = Intent(
            action,
            action.target_type,
            None,
            name,
            requested=Intent.creating(wanted, known),
            changes=field_changes(None, wanted),
        )
        pending = self.ledger.begin(actor, intent)
        return self.ledger.carry_out(
            pending,
            send,
            lambda: find_out(self.api, intent),
            what=(
                Say("Creating the customer “{name}”", name=Name(name))
                if action.target_type == Target.CUSTOMER
                else Say("Creating the offer “{name}”", name=Name(name))
            ),
            look_hint=look_hint,
            completion=lambda record: {"target_id": record.id, "target_name": _name_of(record)},
        )

    def _edit(
        self,
        actor: Actor,
        action: Action,
        current: _Editable,
        wanted: dict[str, Any],
        names: tuple[str, ...],
        send: Callable[[dict[str, Any]], _Editable | None],
        find_out: Callable[[LoyaltyClient, Intent], _Editable | None],
        what: Say,
        look_hint: Say,
    ) -> Done[_Editable]:
        """Send only the fields that differ; record each field's before and after."""
        before = values_of(current, names)
        changes = field_changes(before, wanted)
        if not changes:
            return Done(current, None)
        name = current.display_name if isinstance(current, Customer) else current.name
        intent = Intent(action, action.target_type, current.id, name, changes=changes)
        pending = self.ledger.begin(actor, intent)
        return self.ledger.carry_out(
            pending,
            lambda: send({k: new for k, (_, new) in changes.items()}),
            lambda: find_out(self.api, intent),
            what=what,
            look_hint=look_hint,
            completion=lambda record: {
                "target_name": _name_of(record),
                "changes": field_changes(before, values_of(record, names)),
            },
        )

    def _unchanged(
        self,
        read: Callable[[], _Editable],
        noun: str,
        name: Callable[[_Editable], Name],
        fingerprint: str,
    ) -> _Editable:
        """The record as it is now, if it is what the form showed; else StaleForm."""
        try:
            current = read()
        except NotFound:
            raise StaleForm(
                Say(
                    "This {noun} was deleted after the form was opened, so nothing was saved.",
                    noun=noun,
                )
            ) from None
        if fingerprint and current.content_hash() != fingerprint:
            raise StaleForm(
                Say(
                    "{name} was changed by someone else after this form was opened, so nothing "
                    "was saved. Close it and open it again to see the latest.",
                    name=name(current),
                )
            )
        return current
