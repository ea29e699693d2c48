"""Publication approvals decided at once, or raced by an edit: on threads."""

from __future__ import annotations

import threading

from bot.domain.records import OPEN_STATES, ApprovalState
from bot.i18n import speaking
from tests.core import AS_GROUP_MANAGER, AS_MANAGER, told
from tests.demo import PAN
from tests.faults import Gate
from tests.unit.test_approvals import publishes, shown, status
from tests.unit.test_records import offer_fields


def test_simultaneous_approvals_publish_once(core) -> None:
    approval = core.request_publication(PAN)
    gate = Gate(core.sandbox, "POST", f"/offers/{PAN}/publish")
    said: list[str] = []

    def click(actor) -> None:
        said.append(told(lambda: core.approvals.approve(actor, approval.id)))

    first = threading.Thread(target=click, args=(AS_MANAGER,))
    first.start()
    assert gate.entered.wait(10)  # publishing, and holding the offer
    for actor in (AS_GROUP_MANAGER, AS_MANAGER, AS_GROUP_MANAGER):
        click(actor)  # each answered at once: no second publish is ever sent
    gate.release()
    first.join()
    assert publishes(core) == 1 and status(core) == "Published"
    refusals = [s for s in said if "not shown" not in s]
    assert len(refusals) == 3
    assert all("publishing this offer right now" in s or "already" in s for s in refusals), said


def test_an_edit_racing_an_approved_publication_is_not_sent(core) -> None:
    approval = core.request_publication(PAN)
    pan = core.service.offer(PAN)  # a manager opened the edit form before the approval
    gate = Gate(core.sandbox, "POST", f"/offers/{PAN}/publish")
    approving = threading.Thread(target=core.approvals.approve, args=(AS_MANAGER, approval.id))
    approving.start()
    assert gate.entered.wait(10)  # publishing now, holding the offer
    edits: list[str] = []
    editing = threading.Thread(
        target=lambda: edits.append(
            told(
                lambda: core.service.update_offer(
                    AS_MANAGER,
                    PAN,
                    offer_fields(pan, offer_cost="0", offer_auto_claim="yes"),
                    pan.content_hash(),
                )
            )
        )
    )
    editing.start()
    gate.release()
    approving.join()
    editing.join()
    assert "*Published* by <@UMANAGER>" in shown(core, approval.id)
    assert status(core) == "Published" and core.program.offers[PAN]["pointsCost"] == 15
    assert core.sandbox.calls_to("POST", f"/offers/{PAN}") == []  # the edit was never sent
    assert "changed by someone else" in edits[0] or "being published" in edits[0]


def test_a_click_that_lost_the_claim_is_told_in_the_readers_language(core) -> None:
    """Two clicks read the request open; the one that loses the claim is told who is
    publishing it, in its reader's words."""
    approval = core.request_publication(PAN)  # as both clicks read it: open
    assert core.store.move_approval(
        approval.id, to=ApprovalState.PUBLISHING, only_from=OPEN_STATES, user_id="UOTRO"
    )
    with speaking("es"):
        lost = told(lambda: core.approvals._claim(AS_MANAGER, approval))
    assert "Otro gerente está publicando esta oferta" in lost, lost
