"""Every change at Smart Passes, in the core, when the answer goes wrong.

For each mutating endpoint: applied then HTTP 500; applied then an empty 200 with every
read after it failing; applied then the connection dropped; a definite 422; a 500 that
applied nothing; and no answer at all. The person must be told the truth (done, not done
and safe to retry, or could not tell), Smart Passes must hold what it holds, and the
audit entry must say the same. (What the person is told is built by the real
presentation code, as the listeners build it.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from bot.domain.amounts import Op, PointsChange
from bot.offline.sandbox import Fault
from bot.slack import blocks
from tests.core import AS_MANAGER, Core, told
from tests.demo import CAFE, JUAN, PAN
from tests.unit.test_approvals import shown
from tests.unit.test_records import confirm, customer_fields, offer_fields


def _points(core: Core, change: PointsChange) -> str:
    return told(lambda: blocks.points_changed(core.service.change_points(AS_MANAGER, JUAN, change)))


def _saved(done) -> blocks.Message:
    card = (
        blocks.offer_card(done.value, lambda act: True)
        if hasattr(done.value, "points_cost")
        else blocks.customer_card(done.value, lambda act: True)
    )
    return blocks.saved(card, "Saved.", done.remarks)


def _create_customer(core: Core) -> str:
    fields = customer_fields(first_name="Rosa", email="rosa@example.com")
    return told(lambda: _saved(core.service.create_customer(AS_MANAGER, fields)))


def _edit_customer(core: Core) -> str:
    juan = core.service.customer(JUAN)
    fields = customer_fields(juan, last_name="Pérez López")
    return told(
        lambda: _saved(core.service.update_customer(AS_MANAGER, JUAN, fields, juan.content_hash()))
    )


def _create_offer(core: Core) -> str:
    fields = offer_fields(offer_name="Tamal gratis", offer_cost="30")
    return told(lambda: _saved(core.service.create_offer(AS_MANAGER, fields)))


def _edit_offer(core: Core) -> str:
    pan = core.service.offer(PAN)
    fields = offer_fields(pan, offer_cost="20")
    return told(
        lambda: _saved(core.service.update_offer(AS_MANAGER, PAN, fields, pan.content_hash()))
    )


def _approve(core: Core) -> str:
    approval = core.request_publication(PAN)
    core.approvals.approve(AS_MANAGER, approval.id)
    return shown(core, approval.id)


@dataclass(frozen=True)
class Flow:
    action: str  # the audit entry's action
    route: str  # the sandbox route of the change
    reads: str  # the route the bot reads the record back with
    act: Callable[[Core], str]  # do it; what the person sees
    applied: Callable[[Core], bool]  # does Smart Passes hold the change?
    done: str  # what the person sees when it was done
    empty_is_an_answer: bool = False  # a 2xx is all it needs (delete, cancel, publish)


FLOWS = {
    "points add": Flow(
        "points.add",
        "add_points",
        "get_customer",
        lambda core: _points(core, PointsChange(Op.ADD, 10)),
        lambda core: core.points(JUAN) == 15,
        "5 → *15* points",
    ),
    "points deduct": Flow(
        "points.deduct",
        "update_customer",
        "get_customer",
        lambda core: _points(core, PointsChange(Op.DEDUCT, 2)),
        lambda core: core.points(JUAN) == 3,
        "5 → *3* points",
    ),
    "customer create": Flow(
        "customer.create",
        "create_customer",
        "list_customers",
        _create_customer,
        lambda core: any(c["email"] == "rosa@example.com" for c in core.program.customers.values()),
        "Rosa",
    ),
    "customer edit": Flow(
        "customer.update",
        "update_customer",
        "get_customer",
        _edit_customer,
        lambda core: core.program.customers[JUAN]["lastName"] == "Pérez López",
        "Juan Pérez López",
    ),
    "customer delete": Flow(
        "customer.delete",
        "delete_customer",
        "get_customer",
        lambda core: confirm(core, "customer.delete", JUAN),
        lambda core: JUAN not in core.program.customers,
        "was deleted by <@UMANAGER>",
        empty_is_an_answer=True,
    ),
    "offer create": Flow(
        "offer.create",
        "create_offer",
        "list_offers",
        _create_offer,
        lambda core: any(o["name"] == "Tamal gratis" for o in core.program.offers.values()),
        "Tamal gratis",
    ),
    "offer edit": Flow(
        "offer.update",
        "update_offer",
        "list_offers",
        _edit_offer,
        lambda core: core.program.offers[PAN]["pointsCost"] == 20,
        "*Points cost*\n20",
    ),
    "offer delete": Flow(
        "offer.delete",
        "delete_offer",
        "list_offers",
        lambda core: confirm(core, "offer.delete", PAN),
        lambda core: PAN not in core.program.offers,
        "was deleted by <@UMANAGER>",
        empty_is_an_answer=True,
    ),
    "offer cancel": Flow(
        "offer.cancel",
        "cancel_offer",
        "list_offers",
        lambda core: confirm(core, "offer.cancel", CAFE),
        lambda core: core.program.offers[CAFE]["status"] == "Canceled",
        "was canceled by <@UMANAGER>",
        empty_is_an_answer=True,
    ),
    "offer publish": Flow(
        "offer.publish",
        "publish_offer",
        "list_offers",
        _approve,
        lambda core: core.program.offers[PAN]["status"] == "Published",
        "*Published* by <@UMANAGER>",
        empty_is_an_answer=True,
    ),
}


def _fault(core: Core, flow: Flow, fault: Fault, *, reads_fail: bool = False) -> None:
    """`fault` on the flow's change; with `reads_fail`, every read after it fails too."""
    core.sandbox.inject(flow.route, fault)
    if reads_fail:

        def then_reads_fail(method: str, path: str) -> None:
            if method != "GET":
                core.sandbox.inject(flow.reads, Fault.FAIL_503, times=50)

        core.sandbox.before = then_reads_fail


def _entry(core: Core, flow: Flow):
    entries = core.store.entries(actions=[flow.action])
    assert len(entries) == 1, entries
    return entries[0]


@pytest.mark.parametrize("name", FLOWS)
@pytest.mark.parametrize("fault", [Fault.APPLY_THEN_500, Fault.APPLY_THEN_DROP])
def test_applied_then_no_clear_answer_is_checked_and_reported_done(core, name, fault) -> None:
    flow = FLOWS[name]
    _fault(core, flow, fault)
    seen = flow.act(core)
    assert flow.applied(core)
    assert flow.done in seen, seen
    entry = _entry(core, flow)
    assert (entry.outcome, entry.resolved) == ("ok", "checked")  # so it is announced
    if flow.action != "offer.publish":  # the request message shows the outcome itself
        assert "checking showed the change was applied" in seen


@pytest.mark.parametrize("name", FLOWS)
def test_a_definite_refusal_is_not_applied(core, name) -> None:
    flow = FLOWS[name]
    _fault(core, flow, Fault.REFUSE_422)
    seen = flow.act(core)
    assert not flow.applied(core)
    assert "Refused (sandbox fault)" in seen, seen
    assert _entry(core, flow).outcome == "refused"  # so it is not announced


@pytest.mark.parametrize("name", FLOWS)
def test_a_500_that_applied_nothing_is_checked_and_safe_to_retry(core, name) -> None:
    flow = FLOWS[name]
    _fault(core, flow, Fault.FAIL_500)
    seen = flow.act(core)
    assert not flow.applied(core)
    assert "did not go through" in seen and "safe to try again" in seen, seen
    entry = _entry(core, flow)
    assert (entry.outcome, entry.resolved) == ("failed", "checked")


@pytest.mark.parametrize("name", ["points add", "customer create", "offer publish"])
def test_no_answer_and_nothing_showing_yet_is_not_called_safe(core, name) -> None:
    """A dropped connection: Smart Passes may still be working on it, so "not applied"
    cannot be told, and the person is never told to try again."""
    flow = FLOWS[name]
    _fault(core, flow, Fault.DROP)
    seen = flow.act(core)
    assert not flow.applied(core)
    assert "may or may not have been applied" in seen and "safe to try again" not in seen, seen
    assert _entry(core, flow).outcome == "unknown"
