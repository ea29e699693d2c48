"""Every change is audited with its difference, reaches the audit channel with its fields,
and shows in `/loyalty history`."""

from __future__ import annotations

import pytest

from bot.offline.sandbox import DEMO_PROGRAM_ID
from tests.harness import CLERK, MANAGER, button, text_of

JUAN, PAN = 1870, 5002
AUDIT, APPROVALS = "CAUDIT", "CAPPROVALS"


@pytest.fixture
def bot(bot_with):
    return bot_with(loyalty_audit_channel=AUDIT, loyalty_approvals_channel=APPROVALS)


def _posts(bot, count: int) -> list[str]:
    calls = bot.slack.wait_for(
        "chat.postMessage", lambda c: c.args["channel"] == AUDIT, count=count
    )
    return [text_of(c.args) for c in calls]


def _form(bot, command: str, values: dict[str, str], user: str = MANAGER) -> None:
    bot.command(command, user=user)
    view_id, _ = bot.opened_view()
    bot.answer(view_id, values, user=user)


def test_an_offer_edit_is_posted_with_each_changed_field(bot) -> None:
    _form(bot, "offer edit 5002", {"offer_cost": "0", "offer_auto_claim": "yes"})
    (post,) = _posts(bot, 1)
    assert post == (
        "<@UMANAGER> edited offer *Pan dulce 2x1* (`5002`): auto-claim no → yes, points cost 15 → 0"
    )
    (entry,) = bot.store.entries(actions=["offer.update"])
    assert entry.changes == {"points_cost": [15, 0], "auto_claim": [False, True]}


def test_customer_create_edit_and_delete_reach_the_channel_and_history(bot) -> None:
    _form(bot, "customer new", {"first_name": "Rosa", "last_name": "Díaz", "email": "r@x.mx"})
    _form(bot, "customer edit 1870", {"last_name": "Pérez López", "phone": ""})
    created, edited = _posts(bot, 2)
    rosa = next(
        c
        for c in bot.sandbox.state.programs[DEMO_PROGRAM_ID].customers.values()
        if c["email"] == "r@x.mx"
    )
    assert created == (
        f"<@UMANAGER> created customer *Rosa Díaz* (`{rosa['id']}`): "
        "email r@x.mx, first name Rosa, last name Díaz"
    )
    assert edited == (
        "<@UMANAGER> edited customer *Juan Pérez López* (`1870`): "
        "last name Pérez → Pérez López, phone +529994116533 → —"
    )
    bot.command("history 1870")
    assert "edited customer: last name Pérez → Pérez López" in text_of(bot.reply())
    bot.command("customer delete 1870")
    bot.click(button(bot.reply(), "Delete customer"))
    bot.reply()
    assert _posts(bot, 3)[-1] == (
        "<@UMANAGER> deleted customer *Juan Pérez López* (`1870`): points 5"
    )


def _click_on_request(bot, label: str) -> None:
    """A clerk asks to publish Pan dulce; a manager clicks `label` on the request."""
    bot.command("offer publish 5002", user=CLERK)
    bot.reply()
    message = next(m for m in bot.slack.messages if m.channel == APPROVALS)
    clicked = {"ts": message.ts, "blocks": message.blocks, "channel": APPROVALS}
    bot.click(button(clicked, label), channel=APPROVALS, message=clicked)


def test_publication_request_and_decisions_are_posted(bot) -> None:
    _click_on_request(bot, "Approve")
    asked, published = _posts(bot, 2)
    assert asked == (
        "<@UCLERK> asked to publish offer *Pan dulce 2x1* (`5002`): status Draft → Published"
    )
    assert published == (
        "<@UMANAGER> published offer *Pan dulce 2x1* (`5002`): status Draft → Published"
    )


def test_a_rejection_is_posted_with_its_reason(bot) -> None:
    _click_on_request(bot, "Reject")
    view_id, _ = bot.opened_view()
    bot.answer(view_id, {"reject_reason": "Needs a <!channel> photo"})
    assert _posts(bot, 2)[-1] == (
        "<@UMANAGER> rejected publishing offer *Pan dulce 2x1* (`5002`) · "
        "Needs a &lt;!channel&gt; photo"
    )


def test_history_tells_pending_unknown_and_checked_changes_apart(bot) -> None:
    from bot.core.audit import Actor

    store, actor = bot.store, Actor(MANAGER)
    # Entries as a stopped process, an unclear answer and a check after a 500 leave them.
    for outcome, resolved, after in [
        ("pending", "", None),
        ("unknown", "", None),
        ("ok", "checked", 25),
    ]:
        entry_id = store.record_by(
            actor,
            action="points.add",
            outcome="pending",
            target_type="customer",
            target_id=JUAN,
            target_name="Juan Pérez",
            before=5 if outcome != "ok" else 15,
            requested="+10",
        )
        if outcome != "pending":
            store.complete(entry_id, outcome, resolved=resolved, after=after, detail="HTTP 500")
    bot.command("history 1870")
    shown = text_of(bot.reply())
    assert "added points from 5 (+10 asked) · ⏳ _not confirmed yet: it is being checked_" in shown
    assert "*⚠️ could not tell whether it was applied* · HTTP 500" in shown
    assert "added points 15 → 25 (+10) · _confirmed by checking_" in shown
