"""No accidental duplicates: a customer's email, phone or full name, or an offer's name,
that belongs to another record is refused beside its field before anything is sent."""

from __future__ import annotations

import pytest

from bot.core.validation import Field
from bot.domain.errors import AlreadyTaken
from bot.domain.text_keys import fold
from tests.core import AS_CLERK, AS_MANAGER, told
from tests.demo import JUAN, PAN
from tests.unit.test_records import customer_fields, offer_fields


def _writes(core) -> list:
    return [c for c in core.sandbox.calls if c.method != "GET"]


@pytest.mark.parametrize(
    ("typed", "field"),
    [
        ({"email": "JUAN.PEREZ@example.com"}, Field.EMAIL),
        ({"phone": "+52 999 411 6533"}, Field.PHONE),
    ],
)
def test_an_email_or_phone_of_another_customer_names_them(core, typed, field) -> None:
    with pytest.raises(AlreadyTaken) as taken:
        core.service.create_customer(AS_CLERK, customer_fields(first_name="Otro", **typed))
    assert taken.value.field == field
    assert "already belongs to Juan Pérez (#1870)" in str(taken.value)
    assert _writes(core) == []


def test_a_same_name_is_refused_for_clerks_and_confirmed_by_a_manager(core) -> None:
    ana = customer_fields(first_name="ana", last_name="GARCIA", email="ana2@example.com")
    shown = told(lambda: core.service.create_customer(AS_CLERK, ana))
    assert "already belongs to Ana García" in shown and "ask a manager" in shown
    with pytest.raises(AlreadyTaken) as taken:
        core.service.create_customer(AS_MANAGER, ana)
    assert taken.value.confirmable == fold("ana GARCIA") and _writes(core) == []
    # The clerk cannot confirm, even carrying the name; the manager sending it again can.
    assert "ask a manager" in told(
        lambda: core.service.create_customer(AS_CLERK, ana, same_name=taken.value.confirmable)
    )
    done = core.service.create_customer(AS_MANAGER, ana, same_name=taken.value.confirmable)
    assert done.value.email == "ana2@example.com" and len(_writes(core)) == 1


def test_an_edit_is_checked_only_for_what_it_changes(core) -> None:
    juan = core.service.customer(JUAN)
    fingerprint = juan.content_hash()
    with pytest.raises(AlreadyTaken) as taken:
        core.service.update_customer(
            AS_CLERK, JUAN, customer_fields(juan, email="ana.garcia@example.com"), fingerprint
        )
    assert taken.value.field == Field.EMAIL and _writes(core) == []
    done = core.service.update_customer(
        AS_CLERK, JUAN, customer_fields(juan, last_name="Pérez López"), fingerprint
    )
    assert done.value.last_name == "Pérez López"


def test_an_offer_name_in_use_is_refused_on_the_field(core) -> None:
    with pytest.raises(AlreadyTaken) as taken:
        core.service.create_offer(AS_CLERK, offer_fields(offer_name="cafe  GRATIS", offer_cost="5"))
    assert taken.value.field == Field.OFFER_NAME
    assert "already belongs to Café Gratis (#5001)" in str(taken.value)
    pan = core.service.offer(PAN)
    with pytest.raises(AlreadyTaken):
        core.service.update_offer(
            AS_CLERK, PAN, offer_fields(pan, offer_name="Café gratis"), pan.content_hash()
        )
    assert _writes(core) == []
    core.service.update_offer(  # its own name, re-cased, is fine
        AS_CLERK, PAN, offer_fields(pan, offer_name="Pan Dulce 2x1"), pan.content_hash()
    )
