"""Offers: drafting and editing them; a published or canceled offer is not edited."""

from __future__ import annotations

from bot.core.base import offer_key
from bot.core.customers import THIS_NAME
from bot.core.intents import Done, creation_key
from bot.core.outcomes import (
    offer_created,
    offer_updated,
)
from bot.core.record_writes import RecordWrites, _taken
from bot.core.validation import Field, OfferFields
from bot.domain.audit import (
    Action,
    Actor,
    Target,
)
from bot.domain.errors import (
    AlreadyTaken,
    ChangeRefused,
)
from bot.domain.policy import Act
from bot.domain.say import N_, Command, Name, Say
from bot.domain.text_keys import fold
from bot.smartpasses.models import Offer

OFFER_FIELDS = ("name", "description", "points_cost", "auto_claim")


class Offers(RecordWrites):
    def create_offer(self, actor: Actor, fields: OfferFields) -> Done[Offer]:
        wanted = fields.api_body()
        with self.ledger.locked(
            creation_key(Target.OFFER, wanted), N_("an offer with this name"), actor
        ):
            self._check_offer_name(fields.name, None)
            return self._create(
                actor,
                Action.OFFER_CREATE,
                fields.name,
                wanted,
                set(),  # no offer had this name (just checked)
                lambda: self.api.create_offer(**wanted),
                offer_created,
                Say("{drafts}", drafts=Command("offers draft")),
            )

    def update_offer(
        self, actor: Actor, offer_id: int, fields: OfferFields, fingerprint: str
    ) -> Done[Offer]:
        with self.ledger.locked(offer_key(offer_id), N_("this offer"), actor):
            current = self._unchanged(
                lambda: self.offer(offer_id), "offer", lambda o: Name(f"“{o.name}”"), fingerprint
            )
            self.refuse_unless_editable(actor, current)
            if fold(fields.name) != fold(current.name):
                self._check_offer_name(fields.name, offer_id)
            return self._edit(
                actor,
                Action.OFFER_UPDATE,
                current,
                fields.api_body(),
                OFFER_FIELDS,
                lambda changed: self.api.update_offer(offer_id, **changed),
                offer_updated,
                Say("Saving the offer “{name}”", name=Name(current.name)),
                Say("{card}", card=Command("offer", str(offer_id))),
            )

    def _check_offer_name(self, name: str, offer_id: int | None) -> None:
        """AlreadyTaken when another offer has this name (ignoring case and accents): two
        offers people cannot tell apart make `offer <name>` ambiguous."""
        wanted = fold(name).strip()
        owner = next(
            (
                o
                for o in self.api.list_offers()
                if fold(o.name).strip() == wanted and o.id != offer_id
            ),
            None,
        )
        if owner is not None:
            raise AlreadyTaken(
                Say(
                    "{taken} Choose another name, so people can tell them apart.",
                    taken=_taken(THIS_NAME, owner),
                ),
                Field.OFFER_NAME,
            )

    def refuse_unless_editable(self, actor: Actor, offer: Offer) -> None:
        """A live offer is for managers to edit; none is edited while being published."""
        if not offer.is_draft:
            self.roles.require(
                actor.user_id,
                Act.EDIT_LIVE_OFFER,
                team_id=actor.team_id,
                target_type=Target.OFFER,
                target_id=offer.id,
                target_name=offer.name,
            )
        if self.store.publishing(offer.id):
            raise ChangeRefused(
                Say(
                    "“{name}” is being published right now, so it cannot be edited. Try again "
                    "in a minute.",
                    name=Name(offer.name),
                )
            )
