"""Customers: creating and editing them, with an email, phone or name that is already
someone else's refused."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.core.base import customer_key
from bot.core.intents import Done, creation_key
from bot.core.outcomes import (
    customer_created,
    customer_updated,
)
from bot.core.record_writes import RecordWrites, _taken
from bot.core.validation import CustomerFields, Field
from bot.domain.audit import (
    Action,
    Actor,
    Target,
)
from bot.domain.errors import AlreadyTaken
from bot.domain.say import N_, Command, Name, Say
from bot.domain.text_keys import fold, phone_digits
from bot.smartpasses.models import Customer

CUSTOMER_FIELDS = ("first_name", "last_name", "email", "phone")

# A field, inside the sentence saying another record has it (Babel cannot see N_() nested
# in a Say's arguments: marked here).
THIS_EMAIL, THIS_PHONE, THIS_NAME = N_("This email"), N_("This phone number"), N_("This name")


class Customers(RecordWrites):
    def create_customer(
        self, actor: Actor, fields: CustomerFields, *, same_name: str = ""
    ) -> Done[Customer]:
        """`same_name`: the name a form warned about and was sent again with (a manager
        confirming a second customer of that name)."""
        wanted = fields.api_body()
        with self.ledger.locked(
            creation_key(Target.CUSTOMER, wanted), N_("a customer with these details"), actor
        ):
            self._check_taken(actor, fields, None, same_name)
            done = self._create(
                actor,
                Action.CUSTOMER_CREATE,
                fields.full_name,
                wanted,
                {c.id for c in self._customers_like(fields)},
                lambda: self.api.create_customer(**wanted),
                customer_created,
                Say("{search}", search=Command("customers", fields.full_name)),
            )
        self.index.upsert(done.value)
        return done

    def _check_taken(
        self, actor: Actor, fields: CustomerFields, current: Customer | None, same_name: str
    ) -> None:
        """AlreadyTaken, before anything is sent, when the email, phone or full name (each
        as it will be saved, and changed by this form) belongs to another customer. A
        manager may go ahead with a same name by sending the form again."""

        def other(matches: Sequence[Customer], same: Callable[[Customer], bool]) -> Customer | None:
            return next(
                (c for c in matches if same(c) and (current is None or c.id != current.id)), None
            )

        def changed(value: str, before: str) -> bool:
            return bool(value) and (current is None or fold(value) != fold(before))

        email, phone = fields.email.strip().casefold(), phone_digits(fields.phone)
        if changed(fields.email, current.email if current else ""):
            owner = other(
                self.index.find(fields.email).matches,
                lambda c: c.email.strip().casefold() == email,
            )
            if owner is not None:
                raise AlreadyTaken(_taken(THIS_EMAIL, owner), Field.EMAIL)
        if changed(fields.phone, current.phone if current else ""):
            owner = other(
                self.index.find(fields.phone).matches, lambda c: phone_digits(c.phone) == phone
            )
            if owner is not None:
                raise AlreadyTaken(_taken(THIS_PHONE, owner), Field.PHONE)
        name = fold(fields.full_name)
        manager = self.roles.is_manager(actor.user_id)
        confirmed = manager and same_name == name
        if changed(fields.full_name, current.full_name if current else "") and not confirmed:
            owner = other(
                self.index.find(f'"{fields.full_name}"').matches,
                lambda c: fold(c.full_name) == name,
            )
            if owner is None:
                return
            if manager:
                raise AlreadyTaken(
                    Say(
                        "{taken} If this is another person with the same name, send the form "
                        "again to save it anyway.",
                        taken=_taken(THIS_NAME, owner),
                    ),
                    Field.FIRST_NAME,
                    confirmable=name,
                )
            raise AlreadyTaken(
                Say(
                    "{taken} If this is another person with the same name, ask a manager to "
                    "create them.",
                    taken=_taken(THIS_NAME, owner),
                ),
                Field.FIRST_NAME,
            )

    def _customers_like(self, fields: CustomerFields) -> Sequence[Customer]:
        """Customers a create's check could mistake for the new one (they existed before)."""
        reference = fields.email or fields.phone or f'"{fields.full_name}"'
        return self.index.find(reference).matches

    def update_customer(
        self,
        actor: Actor,
        customer_id: int,
        fields: CustomerFields,
        fingerprint: str,
        *,
        same_name: str = "",
    ) -> Done[Customer]:
        with self.ledger.locked(customer_key(customer_id), N_("this customer"), actor):
            current = self._unchanged(
                lambda: self.customer(customer_id),
                "customer",
                lambda c: Name(c.display_name),
                fingerprint,
            )
            self._check_taken(actor, fields, current, same_name)
            done = self._edit(
                actor,
                Action.CUSTOMER_UPDATE,
                current,
                fields.api_body(),
                CUSTOMER_FIELDS,
                lambda changed: self.api.update_customer(current.id, **changed),
                customer_updated,
                Say("Saving the customer {name}", name=Name(current.display_name)),
                Say("{card}", card=Command("customer", str(current.id))),
            )
        self.index.upsert(done.value)
        return done
