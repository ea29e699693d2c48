"""The sandbox follows the spec's rules, in-process through httpx.WSGITransport (no port)."""

from __future__ import annotations

import httpx
import pytest

from bot.core.index.customer_list import CustomerList
from bot.domain.errors import ServerError, ValidationFailed
from bot.offline.sandbox import DEMO_APP_KEY, DEMO_PROGRAM_ID, SandboxApp, build_state
from bot.smartpasses.client import LoyaltyClient

BASE = f"http://sandbox/api/v1/loyalty/programs/{DEMO_PROGRAM_ID}/"


@pytest.fixture
def http(sandbox: SandboxApp) -> httpx.Client:
    return httpx.Client(
        transport=httpx.WSGITransport(app=sandbox), headers={"Authorization": DEMO_APP_KEY}
    )


def test_demo_data_is_the_spec_examples(http: httpx.Client) -> None:
    customers = {c["id"]: c for c in http.get(BASE + "customers").json()}
    assert customers[1869]["humanName"] == "Anónimo #1869"
    assert customers[1870]["humanName"] == "Juan Pérez" and customers[1870]["points"] == 5
    assert customers[6629146321223680]["firstName"] == "Ana"
    assert next(o["name"] for o in http.get(BASE + "offers").json()) == "Café Gratis"


def test_human_name_follows_name_changes(http: httpx.Client) -> None:
    assert (
        http.put(BASE + "customers/1870", json={"firstName": "", "lastName": ""}).json()[
            "humanName"
        ]
        == "Anónimo #1870"
    )


def test_bad_bodies_get_400_or_422(http: httpx.Client) -> None:
    response = http.post(
        BASE + "customers", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and "JSON" in response.json()["message"]
    response = http.post(BASE + "customers/1870/points/add", json={"points": "ten"})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "points", "reasons": ["Must be a whole number"]}]
    assert http.put(BASE + "customers/1870", json={"points": -1}).status_code == 422
    assert http.post(BASE + "offers", json={"pointsCost": 3}).status_code == 422
    assert http.post(BASE + "customers", json={"email": "not-an-email"}).status_code == 422


def test_wrong_key_and_unknown_things(http: httpx.Client) -> None:
    assert http.get(BASE + "customers", headers={"Authorization": "nope"}).status_code == 403
    assert http.get(BASE.replace(str(DEMO_PROGRAM_ID), "1") + "customers").status_code == 404
    assert http.get(BASE + "customers/42").status_code == 404
    assert http.post(BASE + "offers/42/publish").status_code == 404
    assert http.get(BASE + "offers/5001/publish").status_code == 405


def test_offer_state_rules(http: httpx.Client) -> None:
    new = http.post(BASE + "offers", json={"name": "X", "pointsCost": 1}).json()
    assert new["status"] == "Draft"
    assert http.post(BASE + f"offers/{new['id']}/cancel").status_code == 422
    assert http.post(BASE + f"offers/{new['id']}/publish").json()["status"] == "Published"
    assert http.post(BASE + f"offers/{new['id']}/publish").status_code == 422
    assert http.delete(BASE + f"offers/{new['id']}").status_code == 422
    assert http.post(BASE + f"offers/{new['id']}/cancel").json()["status"] == "Canceled"


def test_in_process_client_and_fault_injection() -> None:
    app = SandboxApp(build_state("empty"), fail_rate=1.0)
    client = LoyaltyClient(
        app_key=DEMO_APP_KEY,
        program_id=DEMO_PROGRAM_ID,
        base_url="http://sandbox/api/v1/loyalty/",
        transport=httpx.WSGITransport(app=app),
        sleep=lambda s: None,
    )
    with pytest.raises(ServerError):
        client.list_customers(CustomerList.from_json)
    app.fail_rate = 0.0
    assert client.list_customers(CustomerList.from_json) == []
    with pytest.raises(ValidationFailed):
        client.create_offer(name="  ")


def test_generated_program_has_unique_contacts() -> None:
    state = build_state("500")
    customers = list(state.program(DEMO_PROGRAM_ID).customers.values())
    assert len(customers) == 500
    emails = [c["email"] for c in customers if c["email"]]
    assert len(emails) == len(set(emails)) and len(emails) == 490
