"""Customers and offers in the core: created, edited (only what changed, never over someone
else's change), deleted and canceled behind a confirmation, each once and on the record."""

from __future__ import annotations

import pytest

from bot.core import validation as forms
from bot.core.validation import Field
from bot.domain.amounts import Op, PointsChange
from bot.domain.errors import ValidationFailed
from bot.offline.sandbox import DEMO_PROGRAM_ID
from bot.slack import blocks
from bot.smartpasses.models import Customer, Offer
from tests.core import AS_CLERK, AS_MANAGER, Core, told
from tests.demo import CAFE, JUAN, PAN
from tests.harness import CLERK, MANAGER

CUSTOMER_DELETE, OFFER_DELETE, OFFER_CANCEL = "customer.delete", "offer.delete", "offer.cancel"


def customer_fields(customer: Customer | None = None, **typed: str) -> forms.CustomerFields:
    """The customer form as sent: what it was filled with, and what was typed over it."""
    values: dict[str, str | None] = {}
    if customer is not None:
        values = {
            Field.FIRST_NAME: customer.first_name,
            Field.LAST_NAME: customer.last_name,
            Field.EMAIL: customer.email,
            Field.PHONE: customer.phone,
        }
    values.update(typed)
    fields, errors = forms.read_customer_form(values)
    assert errors == {}
    return fields


def offer_fields(offer: Offer | None = None, **typed: str) -> forms.OfferFields:
    values: dict[str, str | None] = {}
    if offer is not None:
        values = {
            Field.OFFER_NAME: offer.name,
            Field.OFFER_DESCRIPTION: offer.description,
            Field.OFFER_COST: str(offer.points_cost),
            Field.OFFER_AUTO_CLAIM: "yes" if offer.auto_claim else "no",
        }
    values.update(typed)
    fields, errors = forms.read_offer_form(values)
    assert errors == {} and fields is not None
    return fields


def confirm(core: Core, kind: str, target_id: int, actor=AS_MANAGER) -> str:
    """Ask, then press the button that names the act: what the person is told."""
    token, name = core.service.ask_to_confirm(actor, kind, target_id)
    return told(
        lambda: blocks.confirmed(
            kind, name, actor.user_id, core.service.confirm(actor, token).remarks
        )
    )


# -- customers -------------------------------------------------------------------------


def test_a_new_customer_is_created_with_the_fields_typed(core) -> None:
    done = core.service.create_customer(
        AS_CLERK,
        customer_fields(
            first_name="Rosa", last_name="Díaz", email="rosa@example.com", phone="+52 555 999 8888"
        ),
    )
    (create,) = core.sandbox.calls_to("POST", "/customers")
    assert create.body == {
        "firstName": "Rosa",
        "lastName": "Díaz",
        "email": "rosa@example.com",
        "phone": "+525559998888",  # E.164, as Smart Passes stores it
    }
    assert done.value.display_name == "Rosa Díaz"
    assert core.service.find_customers("rosa@example.com").found == done.value  # found at once
    (entry,) = core.store.entries(actions=["customer.create"])
    assert (entry.user_id, entry.outcome, entry.target_id) == (CLERK, "ok", done.value.id)


def test_a_refusal_from_smart_passes_names_its_field(core) -> None:
    core.service.find_customers("juan")  # the index is loaded; then someone elsewhere adds:
    core.sandbox.state.add_customer(DEMO_PROGRAM_ID, {"firstName": "Eva", "phone": "+525557778888"})
    with pytest.raises(ValidationFailed) as refused:
        core.service.create_customer(
            AS_MANAGER, customer_fields(first_name="Otro", phone="+52 555 777 8888")
        )
    problems = forms.map_api_errors(refused.value.field_errors, Field.FIRST_NAME, refused.value.say)
    assert {k: str(v) for k, v in problems.items()} == {Field.PHONE: "Phone number already taken"}
    assert core.store.entries(actions=["customer.create"])[0].outcome == "refused"


def test_an_edit_sends_only_what_changed_and_records_each_field(core) -> None:
    juan = core.service.customer(JUAN)
    done = core.service.update_customer(
        AS_MANAGER, JUAN, customer_fields(juan, last_name="Pérez López"), juan.content_hash()
    )
    assert core.sandbox.calls_to("PUT", f"/customers/{JUAN}")[-1].body == {
        "lastName": "Pérez López"
    }
    assert done.value.display_name == "Juan Pérez López"
    (entry,) = core.store.entries(actions=["customer.update"])
    assert entry.outcome == "ok" and entry.changes == {"last_name": ["Pérez", "Pérez López"]}


def test_an_edit_with_nothing_changed_sends_nothing(core) -> None:
    juan = core.service.customer(JUAN)
    done = core.service.update_customer(AS_MANAGER, JUAN, customer_fields(juan), "")
    assert done.entry is None and core.writes() == []


def test_a_stale_form_never_overwrites(core) -> None:
    juan = core.service.customer(JUAN)
    core.sandbox.state.update_customer(DEMO_PROGRAM_ID, JUAN, {"email": "new@example.com"})
    stale = told(
        lambda: core.service.update_customer(
            AS_MANAGER, JUAN, customer_fields(juan, last_name="X"), juan.content_hash()
        )
    )
    assert "changed by someone else" in stale
    core.sandbox.state.delete_customer(DEMO_PROGRAM_ID, JUAN)
    gone = told(
        lambda: core.service.update_customer(
            AS_MANAGER, JUAN, customer_fields(juan, last_name="Y"), juan.content_hash()
        )
    )
    assert "was deleted" in gone
    assert core.writes() == []


# -- offers ------------------------------------------------------------------------------


def test_a_new_offer_is_a_draft_with_the_right_body(core) -> None:
    done = core.service.create_offer(
        AS_CLERK,
        offer_fields(
            offer_name="Té Gratis",
            offer_description="Un té.",
            offer_cost="8",
            offer_auto_claim="yes",
        ),
    )
    assert core.sandbox.calls_to("POST", "/offers")[-1].body == {
        "name": "Té Gratis",
        "description": "Un té.",
        "pointsCost": 8,
        "autoClaim": True,
    }
    assert done.value.is_draft
    assert "Draft" in told(lambda: blocks.offer_card(done.value, lambda act: True))


def test_an_offer_edit_records_the_fields_that_changed(core) -> None:
    cafe = core.service.offer(CAFE)
    core.service.update_offer(
        AS_MANAGER, CAFE, offer_fields(cafe, offer_cost="12"), cafe.content_hash()
    )
    assert core.sandbox.calls_to("POST", f"/offers/{CAFE}")[-1].body == {"pointsCost": 12}
    (entry,) = core.store.entries(actions=["offer.update"])
    assert entry.changes == {"points_cost": [10, 12]}


def test_offers_are_found_by_id_or_name_ignoring_accents(core) -> None:
    assert [o.id for o in core.service.find_offers("cafe gratis")] == [CAFE]
    assert [o.id for o in core.service.find_offers("#5002")] == [PAN]
    assert core.service.find_offers("nothing-like-this") == []


def test_a_clerk_cannot_edit_a_published_offer(core) -> None:
    cafe = core.service.offer(CAFE)
    refused = told(
        lambda: core.service.update_offer(
            AS_CLERK, CAFE, offer_fields(cafe, offer_cost="0"), cafe.content_hash()
        )
    )
    assert "Only loyalty *managers* can edit published or canceled offers" in refused
    assert core.writes() == [] and core.program.offers[CAFE]["pointsCost"] == 10
    (entry,) = core.store.entries(user_id=CLERK)
    assert (entry.outcome, entry.target_id) == ("refused", CAFE)
    core.service.update_offer(
        AS_MANAGER, CAFE, offer_fields(cafe, offer_cost="12"), cafe.content_hash()
    )
    assert core.program.offers[CAFE]["pointsCost"] == 12


# -- the points form: it remembers the balance it showed ----------------------------------


def test_a_set_from_a_form_that_showed_another_balance_is_refused(core) -> None:
    core.sandbox.state.update_customer(DEMO_PROGRAM_ID, JUAN, {"points": 500})
    refusal = told(
        lambda: core.service.change_points(
            AS_MANAGER, JUAN, PointsChange(Op.SET, 10), shown_balance=5
        )
    )
    assert "changed to 500 after the form was opened (it showed 5)" in refusal
    assert "Nothing was changed" in refusal and core.writes() == []
    added = told(
        lambda: blocks.points_changed(
            core.service.change_points(AS_MANAGER, JUAN, PointsChange(Op.ADD, 10), shown_balance=5)
        )
    )
    assert "500 → *510*" in added
    assert "The balance had changed to 500 since the form showed 5" in added


def test_the_form_checks_what_the_command_checks() -> None:
    change, _, errors = forms.read_points_form(
        {Field.POINTS_OP: "deduct", Field.POINTS_AMOUNT: "ten"}, 1000
    )
    assert change is None and "whole number" in str(errors[Field.POINTS_AMOUNT])
    _, _, errors = forms.read_points_form(
        {Field.POINTS_OP: "add", Field.POINTS_AMOUNT: "1", Field.POINTS_REASON: "r" * 3000}, 1000
    )
    assert "Keep the reason to 300 characters" in str(errors[Field.POINTS_REASON])


def test_the_customer_form_checks_each_field() -> None:
    _, errors = forms.read_customer_form(
        {Field.FIRST_NAME: " ", Field.EMAIL: "rosa@", Field.PHONE: "555 1234"}
    )
    assert set(errors) == {Field.FIRST_NAME, Field.EMAIL, Field.PHONE}
    assert "international form" in str(errors[Field.PHONE])
    _, errors = forms.read_offer_form({Field.OFFER_NAME: "", Field.OFFER_COST: "2.5"})
    assert set(errors) == {Field.OFFER_NAME, Field.OFFER_COST}
    for typed in ("50 puntos", "50pts", "50 Points"):  # the unit, typed as in a command
        fields, errors = forms.read_offer_form(
            {Field.OFFER_NAME: "Pastel", Field.OFFER_COST: typed}
        )
        assert errors == {} and fields is not None and fields.points_cost == 50, typed
    _, errors = forms.read_offer_form({Field.OFFER_NAME: "Pastel", Field.OFFER_COST: "50 pesos"})
    assert set(errors) == {Field.OFFER_COST}
    # A cost two readers read apart is asked, as the points form asks (not taken as 1,000).
    cost = {Field.OFFER_NAME: "Pastel", Field.OFFER_COST: "1.000"}
    _, errors = forms.read_offer_form(cost, decimal_mark=".")
    assert str(errors[Field.OFFER_COST]).startswith("Did you mean 1 or 1,000?")
    fields, errors = forms.read_offer_form(cost, decimal_mark=",")
    assert errors == {} and fields is not None and fields.points_cost == 1000


# -- confirmations -------------------------------------------------------------------------


def test_a_deletion_happens_only_on_the_button_once(core) -> None:
    token, name = core.service.ask_to_confirm(AS_MANAGER, CUSTOMER_DELETE, JUAN)
    juan = core.service.customer(JUAN)
    assert "permanently deletes the customer *Juan Pérez*" in blocks.consequences(
        CUSTOMER_DELETE, juan
    )
    assert core.writes() == []  # asking changes nothing
    refused = told(lambda: core.service.confirm(AS_CLERK, token))
    assert "Only loyalty *managers* can delete customers" in refused and core.writes() == []
    done = core.service.confirm(AS_MANAGER, token)
    shown = told(lambda: blocks.confirmed(CUSTOMER_DELETE, name, MANAGER, done.remarks))
    assert "was deleted by <@UMANAGER>" in shown
    assert "already done by <@UMANAGER>" in told(lambda: core.service.confirm(AS_MANAGER, token))
    assert len(core.sandbox.calls_to("DELETE", f"/customers/{JUAN}")) == 1
    assert [e.outcome for e in core.store.entries(actions=[CUSTOMER_DELETE])] == ["ok"]


def test_a_clerk_is_refused_before_any_confirmation(core) -> None:
    assert "Only loyalty *managers* can delete customers" in told(
        lambda: core.service.ask_to_confirm(AS_CLERK, CUSTOMER_DELETE, JUAN)
    )
    assert "Only loyalty *managers* can cancel published offers" in told(
        lambda: core.service.ask_to_confirm(AS_CLERK, OFFER_CANCEL, CAFE)
    )


def test_a_published_offer_is_canceled_not_deleted(core) -> None:
    refused = told(lambda: core.service.ask_to_confirm(AS_MANAGER, OFFER_DELETE, CAFE))
    assert "only Draft offers can be deleted" in refused and "Cancel it instead" in refused
    cafe = core.service.offer(CAFE)
    assert "disappears from every customer's wallet pass" in blocks.consequences(OFFER_CANCEL, cafe)
    assert "was canceled by <@UMANAGER>" in confirm(core, OFFER_CANCEL, CAFE)
    assert core.program.offers[CAFE]["status"] == "Canceled"
    assert core.store.entries(actions=[OFFER_CANCEL])[0].outcome == "ok"
