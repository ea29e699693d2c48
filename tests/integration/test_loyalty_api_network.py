"""The Loyalty API client when the network misbehaves: timeouts and a refused connection."""

from __future__ import annotations

import pytest

from bot.core.index.customer_list import CustomerList
from bot.domain.errors import (
    ApiUnavailable,
    OutcomeUnknown,
)
from bot.offline.sandbox import DEMO_PROGRAM_ID, SandboxApp
from bot.smartpasses.client import LoyaltyClient
from tests.core import in_process_client
from tests.demo import JUAN
from tests.faults import Gate
from tests.harness import wait_until


def test_add_points_timeout_is_outcome_unknown_and_not_repeated(sandbox: SandboxApp) -> None:
    gate = Gate(sandbox, "POST", "/points/add")  # answered only after the client gave up
    with in_process_client(sandbox, timeout=0.2) as c:
        with pytest.raises(OutcomeUnknown, match="may or may not") as raised:
            c.add_points(JUAN, 10)
        assert raised.value.answered is False  # it may still be being applied
        gate.release()
        wait_until(lambda: sandbox.calls_to("POST", "/points/add"), what="the add")
    assert len(sandbox.calls_to("POST", f"/customers/{JUAN}/points/add")) == 1
    # The server did apply it: that is why the client must not repeat it.
    assert sandbox.state.customer(DEMO_PROGRAM_ID, JUAN)["points"] == 15


def test_get_timeout_is_retried_then_unavailable(sandbox: SandboxApp) -> None:
    gate = Gate(sandbox, "GET", f"/customers/{JUAN}")
    with (
        in_process_client(sandbox, timeout=0.1, max_retries=1, sleep=lambda s: None) as c,
        pytest.raises(ApiUnavailable, match="did not answer in time"),
    ):
        c.get_customer(JUAN)
    gate.release()
    wait_until(lambda: len(sandbox.calls_to("GET", f"/customers/{JUAN}")) == 2, what="2 reads")


def test_connection_refused_is_unavailable() -> None:
    with (
        LoyaltyClient(
            app_key="k", program_id=1, base_url="http://127.0.0.1:9/api/", max_retries=0
        ) as c,
    ):
        with pytest.raises(ApiUnavailable, match="could not be"):
            c.list_customers(CustomerList.from_json)
        with pytest.raises(ApiUnavailable, match="Nothing was changed"):
            c.add_points(1, 10)  # it never left: certainly not applied
