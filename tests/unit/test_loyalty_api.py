"""The API adapter against the sandbox (and a scripted API), in-process: timeouts and
dropped connections as an httpx transport reports them (`InProcessTransport`)."""

from __future__ import annotations

import logging

import pytest

from bot.core.index.customer_list import CustomerList
from bot.core.validation import Field, map_api_errors
from bot.domain.errors import (
    AuthenticationFailed,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    ServerError,
    ValidationFailed,
)
from bot.i18n import speaking
from bot.offline.sandbox import SandboxApp
from bot.slack.text import plain
from bot.smartpasses.client import LoyaltyClient
from tests.core import in_process_client
from tests.demo import ANA, JUAN


def test_list_and_get_customers_with_64_bit_ids(client: LoyaltyClient) -> None:
    customers = {c.id: c for c in client.list_customers(CustomerList.from_json)}
    assert customers[1869].display_name == "Anónimo #1869"
    assert customers[1869].email == ""
    assert customers[JUAN].full_name == "Juan Pérez" and customers[JUAN].points == 5
    ana = client.get_customer(ANA)
    assert ana.id == ANA and ana.email == "ana.garcia@example.com"


def test_create_update_delete_customer(client: LoyaltyClient, sandbox: SandboxApp) -> None:
    created = client.create_customer(
        first_name="Rosa", last_name="Díaz", email="rosa@example.com", phone="+525559998888"
    )
    assert created.human_name == "Rosa Díaz" and created.points == 0
    assert sandbox.calls_to("POST", "/customers")[-1].body == {
        "firstName": "Rosa",
        "lastName": "Díaz",
        "email": "rosa@example.com",
        "phone": "+525559998888",
    }

    updated = client.update_customer(created.id, last_name="Díaz López", points=25)
    assert updated.human_name == "Rosa Díaz López" and updated.points == 25
    put = sandbox.calls_to("PUT", f"/customers/{created.id}")
    assert put[-1].body == {"lastName": "Díaz López", "points": 25}

    client.delete_customer(created.id)
    with pytest.raises(NotFound):
        client.get_customer(created.id)


def test_add_points_posts_the_amount(client: LoyaltyClient, sandbox: SandboxApp) -> None:
    after = client.add_points(JUAN, 10)
    assert after is not None and after.points == 15
    assert sandbox.calls_to("POST", f"/customers/{JUAN}/points/add")[-1].body == {"points": 10}
    assert client.get_customer(JUAN).points == 15


def test_offer_lifecycle(client: LoyaltyClient, sandbox: SandboxApp) -> None:
    offer = client.create_offer(
        name="Té Gratis", description="Un té.", points_cost=8, auto_claim=False
    )
    assert offer.is_draft and offer.status == "Draft"
    edited = client.update_offer(offer.id, points_cost=9, auto_claim=True)
    assert edited.points_cost == 9 and edited.auto_claim
    assert sandbox.calls_to("POST", f"/offers/{offer.id}")[-1].body == {
        "pointsCost": 9,
        "autoClaim": True,
    }
    assert client.publish_offer(offer.id).is_published
    canceled = client.cancel_offer(offer.id)
    assert canceled.is_canceled and not canceled.is_published
    with pytest.raises(ValidationFailed, match="Only Draft offers can be deleted"):
        client.delete_offer(offer.id)

    draft = client.create_offer(name="Borrador")
    client.delete_offer(draft.id)
    assert draft.id not in {o.id for o in client.list_offers()}
    assert client.get_offer(5001).name == "Café Gratis"


def test_publish_only_from_draft(client: LoyaltyClient) -> None:
    with pytest.raises(ValidationFailed, match="Only Draft offers can be published"):
        client.publish_offer(5001)


def test_validation_error_carries_field_reasons(client: LoyaltyClient) -> None:
    with pytest.raises(ValidationFailed) as caught:
        client.create_customer(first_name="Otro", phone="+52 999 411 6533")
    assert caught.value.field_errors == {"phone": ["Phone number already taken"]}
    assert caught.value.status_code == 422


def test_wrong_app_key_is_authentication_failed(sandbox: SandboxApp) -> None:
    with in_process_client(sandbox, app_key="wrong") as c, pytest.raises(AuthenticationFailed):
        c.list_customers(CustomerList.from_json)


def test_unknown_program_and_customer_are_not_found(
    client: LoyaltyClient, sandbox: SandboxApp
) -> None:
    with pytest.raises(NotFound, match="That customer"):
        client.get_customer(999)
    with in_process_client(sandbox, program_id=1) as other, pytest.raises(NotFound):
        other.list_offers()


def test_bad_request_400_maps_to_validation(scripted) -> None:
    api, client, _ = scripted
    api.responses[:] = [(400, {}, {"message": "Bad points value"})]
    with pytest.raises(ValidationFailed, match="Bad points value") as caught:
        client.add_points(1, 5)
    assert caught.value.status_code == 400


def test_get_is_retried_on_5xx_then_succeeds(scripted) -> None:
    api, client, waits = scripted
    api.responses[:] = [(503, {}, {}), (502, {}, {}), (200, {}, [{"id": 1}])]
    assert [c.id for c in client.list_customers(CustomerList.from_json)] == [1]
    assert len(api.requests) == 3 and len(waits) == 2 and waits[1] > waits[0]


def test_get_gives_up_after_retries_with_server_error(scripted) -> None:
    api, client, _waits = scripted
    api.responses[:] = [(500, {}, {})]
    with pytest.raises(ServerError) as caught:
        client.get_customer(1)
    assert caught.value.status_code == 500 and len(api.requests) == 3


def test_retry_after_is_honoured(scripted) -> None:
    api, client, waits = scripted
    api.responses[:] = [(429, {"Retry-After": "3"}, {}), (200, {}, {"id": 7, "points": 1})]
    assert client.get_customer(7).points == 1
    assert waits == [3.0]


def test_long_retry_after_gives_up_with_rate_limited(scripted) -> None:
    api, client, waits = scripted
    api.responses[:] = [(429, {"Retry-After": "120"}, {})]
    with pytest.raises(RateLimited, match="120 seconds"):
        client.list_offers()
    assert waits == [] and len(api.requests) == 1


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c.add_points(1, 10),
        lambda c: c.update_customer(1, points=3),
        lambda c: c.delete_customer(1),
        lambda c: c.create_offer(name="x"),
        lambda c: c.publish_offer(1),
    ],
)
@pytest.mark.parametrize("status", [500, 503, 429, 302])
def test_a_change_answered_with_anything_but_a_refusal_is_unknown_and_sent_once(
    scripted, change, status: int
) -> None:
    api, client, waits = scripted
    api.responses[:] = [(status, {"Retry-After": "0"}, {}), (200, {}, {"id": 1, "points": 10})]
    with pytest.raises(OutcomeUnknown) as raised:
        change(client)
    assert raised.value.cause == f"Smart Passes answered HTTP {status}"
    assert raised.value.answered is True  # the server finished: a check is conclusive
    assert len(api.requests) == 1 and waits == []


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, ValidationFailed),
        (422, ValidationFailed),
        (403, AuthenticationFailed),
        (404, NotFound),
    ],
)
def test_a_refused_change_is_its_refusal(scripted, status: int, error: type) -> None:
    api, client, _ = scripted
    api.responses[:] = [(status, {}, {"message": "no"})]
    with pytest.raises(error):
        client.update_customer(1, points=3)
    assert len(api.requests) == 1


def test_a_refusal_without_words_of_its_own_is_told_in_the_readers_language(scripted) -> None:
    """Smart Passes' own words are shown as they came; where it gives none (no message, or
    a field without reasons), the reader's language, also beside the form's field."""
    api, client, _ = scripted
    api.responses[:] = [(422, {}, {"errors": [{"field": "phone"}, {"field": "email"}]})]
    with pytest.raises(ValidationFailed) as refused:
        client.update_customer(1, phone="+52 55")
    problems = map_api_errors(refused.value.field_errors, Field.FIRST_NAME, refused.value.say)
    with speaking("es"):
        shown = {field: plain(problem) for field, problem in problems.items()}
    assert shown == {
        Field.PHONE: "Smart Passes rechazó los datos.",
        Field.EMAIL: "Smart Passes rechazó los datos.",
    }
    api.responses[:] = [(422, {}, {"message": "Phone is invalid"})]
    with pytest.raises(ValidationFailed) as refused, speaking("es"):
        client.update_customer(1, phone="+52 55")
    assert plain(refused.value.say) == "Phone is invalid"  # theirs, as it came


@pytest.mark.parametrize("body", [b"", b"<html>ok</html>", b"[]", b'{"ok": true}'])
def test_a_change_answered_2xx_without_its_record_gives_none(scripted, body: bytes) -> None:
    api, client, _ = scripted
    api.responses[:] = [(200, {}, body)]
    assert client.add_points(1, 10) is None
    assert client.update_offer(1, name="x") is None


def test_unknown_fields_and_nulls_are_tolerated(scripted) -> None:
    api, client, _ = scripted
    api.responses[:] = [
        (
            200,
            {},
            [
                {
                    "id": 9,
                    "firstName": None,
                    "lastName": None,
                    "email": None,
                    "phone": None,
                    "points": None,
                    "humanName": None,
                    "tier": "gold",
                    "createdAt": "2026-01-01",
                }
            ],
        )
    ]
    (customer,) = client.list_customers(CustomerList.from_json)
    assert (customer.first_name, customer.email, customer.phone, customer.points) == ("", "", "", 0)
    assert customer.display_name == "Anónimo #9"
    api.responses[:] = [
        (
            200,
            {},
            [
                {
                    "id": 3,
                    "name": "X",
                    "status": "ARCHIVED",
                    "extra": 1,
                    "description": None,
                    "pointsCost": None,
                }
            ],
        )
    ]
    (offer,) = client.list_offers()
    assert offer.status == "ARCHIVED" and not offer.is_draft and offer.points_cost == 0


def test_statuses_compare_case_insensitively(scripted) -> None:
    api, client, _ = scripted
    api.responses[:] = [
        (
            200,
            {},
            [
                {"id": 1, "status": "DRAFT"},
                {"id": 2, "status": "published"},
                {"id": 3, "status": "Cancelled"},
            ],
        )
    ]
    draft, published, canceled = client.list_offers()
    assert draft.is_draft and published.is_published and canceled.is_canceled


def test_app_key_sent_raw_and_never_leaked(scripted, caplog: pytest.LogCaptureFixture) -> None:
    api, client, _ = scripted
    caplog.set_level(logging.DEBUG)
    api.responses[:] = [(503, {}, {}), (403, {}, {"message": "nope"})]
    with pytest.raises(AuthenticationFailed) as caught:
        client.list_customers(CustomerList.from_json)
    assert api.requests[0][2]["authorization"] == "k-secret-123"  # no "Bearer"
    exposed = [
        repr(client),
        str(caught.value),
        repr(caught.value),
        caplog.text,
        repr(client._http.headers),
    ]
    assert all("k-secret-123" not in text for text in exposed)
