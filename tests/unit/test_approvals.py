"""Offer publication in the core: a request for a Draft, published once by another manager
if it is still what was shown, rejected with a reason, and every step on the record."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.core.approvals import Posted
from bot.domain.errors import InvalidInput
from bot.domain.records import ApprovalState
from bot.domain.say import Channel, Say
from bot.i18n import speaking
from bot.offline.sandbox import DEMO_PROGRAM_ID, Fault
from bot.slack import blocks
from bot.slack.blocks.audit import describe
from tests.core import AS_CLERK, AS_GROUP_MANAGER, AS_MANAGER, Core, core_over, told
from tests.demo import CAFE, PAN
from tests.harness import CLERK, text_of

TZ = dt.UTC


def publishes(core: Core) -> int:
    return len(core.sandbox.calls_to("POST", f"/offers/{PAN}/publish"))


def status(core: Core, offer_id: int = PAN) -> str:
    return core.program.offers[offer_id]["status"]


def shown(core: Core, approval_id: int) -> str:
    """The request message as it stands (the bot updates it in place after a decision)."""
    approval = core.store.approval(approval_id)
    assert approval is not None
    return text_of(blocks.approval_request(approval, TZ).kwargs())


def test_a_request_shows_the_offer_as_customers_will_see_it(core) -> None:
    approval = core.request_publication(PAN)
    message = shown(core, approval.id)
    for piece in (
        "Publish this offer?",
        "*Pan dulce 2x1*",
        "Dos piezas de pan dulce",
        "*Points cost*\n15",
        "No, staff claim it",
        "Requested by <@UCLERK>",
        "<!date^",
    ):
        assert piece in message, piece
    labels = [
        b["text"]["text"] for b in blocks.approval_request(approval, TZ).blocks[-1]["elements"]
    ]
    assert labels == ["Approve", "Reject"]
    assert publishes(core) == 0 and status(core) == "Draft"
    (entry,) = core.store.entries(actions=["offer.publish_request"])
    assert (entry.user_id, entry.outcome) == (CLERK, "ok")
    asked = told(lambda: blocks.publication_requested(approval, "CAPPROVALS"))
    assert "Asked the managers in <#CAPPROVALS>" in asked and "*Pan dulce 2x1*" in asked


def test_one_request_per_offer_and_only_for_drafts(core) -> None:
    core.request_publication(PAN)
    assert "already waiting for a manager's approval" in told(
        lambda: core.request_publication(PAN, AS_MANAGER)
    )
    assert "only Draft offers can be published" in told(lambda: core.request_publication(CAFE))
    listing = told(lambda: blocks.approvals_list(core.approvals.open_requests(), TZ))
    assert "1 offer waiting" in listing and "Pan dulce 2x1" in listing


def test_a_request_that_cannot_be_posted_is_not_left_waiting(core) -> None:
    def post_fails(approval) -> Posted:
        raise RuntimeError("The request to the Slack API failed. invalid_blocks")

    def not_a_member(approval) -> Posted:
        raise InvalidInput(Say("I cannot post the request in {channel}.", channel=Channel("C1")))

    with pytest.raises(RuntimeError):
        core.approvals.request(AS_CLERK, PAN, post_fails)
    with pytest.raises(InvalidInput):
        core.approvals.request(AS_CLERK, PAN, not_a_member)
    assert core.store.open_approvals() == []
    raw, ours = core.store.entries(actions=["offer.publish_request"], oldest_first=True)
    assert (raw.outcome, ours.outcome) == ("failed", "failed")
    # The record says why in words the reader can be shown: never the Slack error's text
    assert raw.detail == "not posted in the approvals channel", raw.detail
    assert ours.detail == "not posted in the approvals channel: I cannot post the request in #C1."
    with speaking("es"):
        assert describe(raw).endswith("· no se publicó en el canal de aprobaciones")
    core.request_publication(PAN)  # and asking again works
    assert len(core.store.open_approvals()) == 1


def test_approve_publishes_once(core) -> None:
    approval = core.request_publication(PAN)
    decision = core.approvals.approve(AS_MANAGER, approval.id)
    assert decision.approval.state == ApprovalState.PUBLISHED
    assert "*Published* by <@UMANAGER>" in shown(core, approval.id)
    assert "<@UCLERK>" in text_of(blocks.approval_outcome_for_requester(decision.approval).kwargs())
    assert status(core) == "Published" and publishes(core) == 1
    late = told(lambda: core.approvals.approve(AS_GROUP_MANAGER, approval.id))
    assert "already published by <@UMANAGER>" in late and publishes(core) == 1
    assert [e.outcome for e in core.store.entries(actions=["offer.publish"])] == ["ok"]


def test_a_clerk_cannot_decide(core) -> None:
    approval = core.request_publication(PAN)
    refused = told(lambda: core.approvals.approve(AS_CLERK, approval.id))
    assert "Only loyalty *managers* can approve or reject offer publication" in refused
    assert "Only loyalty *managers*" in told(
        lambda: core.approvals.reject(AS_CLERK, approval.id, "no")
    )
    assert publishes(core) == 0 and status(core) == "Draft"


def test_self_approval_is_refused_unless_allowed(core, sandbox, tmp_path) -> None:
    approval = core.request_publication(PAN, AS_MANAGER)
    assert "another manager must approve it" in told(
        lambda: core.approvals.approve(AS_MANAGER, approval.id)
    )
    assert publishes(core) == 0
    (refused,) = core.store.entries(actions=["offer.publish_approve"], outcome="refused")
    with speaking("es"):  # on the record as said: the activity feed reads it in Spanish
        assert "su propia solicitud: otro gerente debe aprobarla" in describe(refused)
    with core_over(sandbox, str(core.store.engine.url), allow_self_approval=True) as relaxed:
        relaxed.approvals.approve(AS_MANAGER, approval.id)
    assert publishes(core) == 1


def test_reject_with_a_reason_once(core) -> None:
    approval = core.request_publication(PAN)
    decision = core.approvals.reject(AS_MANAGER, approval.id, "Needs a photo")
    assert "*Rejected* by <@UMANAGER>: Needs a photo" in shown(core, approval.id)
    outcome = text_of(blocks.approval_outcome_for_requester(decision.approval).kwargs())
    assert "<@UCLERK>" in outcome and "Needs a photo" in outcome
    assert status(core) == "Draft" and publishes(core) == 0
    assert "already rejected" in told(
        lambda: core.approvals.reject(AS_MANAGER, approval.id, "again")
    )
    (rejection, refused) = core.store.entries(actions=["offer.publish_reject"], oldest_first=True)
    assert (rejection.outcome, rejection.reason) == ("ok", "Needs a photo")
    assert refused.outcome == "refused"


def test_an_offer_edited_after_the_request_is_not_published(core) -> None:
    approval = core.request_publication(PAN)
    core.sandbox.state.update_offer(DEMO_PROGRAM_ID, PAN, {"pointsCost": 1})
    core.approvals.approve(AS_MANAGER, approval.id)
    assert "edited after this request" in shown(core, approval.id)
    assert publishes(core) == 0 and status(core) == "Draft"
    with speaking("es"):  # a Spanish channel reads why in Spanish, the requester's DM too
        assert "La oferta se editó después de esta solicitud" in shown(core, approval.id)
        stale = core.store.approval(approval.id)
        assert stale is not None
        dm = text_of(blocks.approval_outcome_dm(stale).kwargs())
    assert "se editó después" in dm and "edited" not in dm, dm


def test_an_offer_no_longer_a_draft_is_not_published(core) -> None:
    approval = core.request_publication(PAN)
    core.sandbox.state.transition_offer(DEMO_PROGRAM_ID, PAN, "publish")
    core.sandbox.state.transition_offer(DEMO_PROGRAM_ID, PAN, "cancel")
    core.approvals.approve(AS_MANAGER, approval.id)
    assert "The offer is now Canceled" in shown(core, approval.id)
    assert publishes(core) == 0
    with speaking("es"):
        assert "La oferta ahora está Cancelada" in shown(core, approval.id)


def test_a_failure_keeps_the_buttons_then_a_retry_publishes(core) -> None:
    approval = core.request_publication(PAN)
    core.sandbox.inject("publish_offer", Fault.FAIL_500)
    failed = core.approvals.approve(AS_MANAGER, approval.id).approval
    dm = text_of(blocks.approval_outcome_dm(failed).kwargs())  # what the requester reads
    assert "did not finish" in dm and "A manager can press *Approve* again" in dm
    message = shown(core, approval.id)
    assert "Publishing did not finish" in message and "HTTP 500" in message
    assert "checking showed nothing was changed" in message
    assert "Approve" in message and status(core) == "Draft"
    with speaking("es"):
        message = shown(core, approval.id)
    assert "HTTP 500" in message and "checking showed" not in message, message
    core.approvals.approve(AS_MANAGER, approval.id)
    assert "*Published*" in shown(core, approval.id) and status(core) == "Published"
    outcomes = [e.outcome for e in core.store.entries(actions=["offer.publish"])]
    assert outcomes == ["ok", "failed"]
