"""Offer publication approvals through Bolt: the request message, Approve exactly once,
Reject with a reason, stale offers, failures and a restart."""

from __future__ import annotations

import threading
import time

import pytest

from bot.offline.sandbox import DEMO_PROGRAM_ID
from tests.harness import CLERK, GROUP_MANAGER, MANAGER, button, buttons, running_bot, text_of

PAN, CAFE = 5002, 5001
APPROVALS = "CAPPROVALS"


@pytest.fixture
def bot(bot_with):
    return bot_with(loyalty_approvals_channel=APPROVALS)


def _request(bot, offer: str = "pan dulce", user: str = CLERK) -> dict:
    """Ask for publication; returns the request message as posted in the channel."""
    bot.command(f"offer publish {offer}", user=user)
    reply = bot.reply()
    assert "Asked the managers" in text_of(reply), text_of(reply)
    posted = bot.slack.messages[-1]
    return {
        "ts": posted.ts,
        "blocks": posted.blocks,
        "text": posted.text,
        "channel": posted.channel,
    }


def _publishes(bot) -> int:
    return len(bot.sandbox.calls_to("POST", f"/offers/{PAN}/publish"))


def _status(bot, offer_id: int = PAN) -> str:
    return bot.sandbox.state.programs[DEMO_PROGRAM_ID].offers[offer_id]["status"]


def _wait_update(bot, count: int = 1) -> dict:
    return bot.wait("chat.update", count)[-1].args


def test_request_is_posted_as_customers_will_see_it(bot) -> None:
    message = _request(bot)
    assert message["channel"] == APPROVALS
    shown = text_of(message)
    for piece in (
        "Publish this offer?",
        "*Pan dulce 2x1*",
        "Dos piezas de pan dulce",
        "*Points cost*\n15",
        "No, staff claim it",
        "Requested by <@UCLERK>",
        "<!date^",
    ):
        assert piece in shown, piece
    assert [b["text"]["text"] for b in buttons(message)] == ["Approve", "Reject"]
    link = bot.slack.calls_to("chat.getPermalink")[0].args
    assert link["channel"] == APPROVALS and link["message_ts"] == message["ts"]
    assert _publishes(bot) == 0 and _status(bot) == "Draft"
    assert bot.store.entries(actions=["offer.publish_request"])[0].user_id == CLERK


def test_request_link_and_pending_list(bot) -> None:
    _request(bot)
    bot.command("approvals", user=CLERK)
    listing = text_of(bot.reply())
    assert "1 offer(s) waiting" in listing and "|Pan dulce 2x1>" in listing
    bot.command("offer publish 5002")
    assert "already waiting for a manager's approval" in text_of(bot.reply())
    assert len(bot.slack.calls_to("chat.postMessage")) == 1


def test_without_channel_or_membership_it_explains(bot_with) -> None:
    plain_bot = bot_with()
    plain_bot.command("offer publish pan")
    shown = text_of(plain_bot.reply())
    assert "none is set up yet" in shown and "whoever runs the bot" in shown
    assert "LOYALTY_" not in shown  # staff never see a setting's name
    outside = bot_with(loyalty_approvals_channel="CNOTIN")
    outside.slack.bot_not_in.add("CNOTIN")
    outside.command("offer publish pan")
    assert "not a member of that channel" in text_of(outside.reply())
    assert outside.store.open_approvals() == []


def test_only_drafts_can_be_requested(bot) -> None:
    bot.command("offer publish Café Gratis")
    assert "only Draft offers can be published" in text_of(bot.reply())


def test_clerk_cannot_approve(bot) -> None:
    message = _request(bot)
    bot.click(button(message, "Approve"), user=CLERK, channel=APPROVALS, message=message)
    assert "Only loyalty *managers* can approve or reject offer publication" in text_of(bot.reply())
    time.sleep(0.2)
    assert _publishes(bot) == 0 and bot.slack.calls_to("chat.update") == []


def test_self_approval_refused_unless_allowed(bot, bot_with) -> None:
    message = _request(bot, user=MANAGER)
    bot.click(button(message, "Approve"), user=MANAGER, channel=APPROVALS, message=message)
    assert "another manager must approve it" in text_of(bot.reply())
    assert _publishes(bot) == 0
    relaxed = bot_with(loyalty_approvals_channel=APPROVALS, loyalty_allow_self_approval=True)
    relaxed.click(button(message, "Approve"), user=MANAGER, channel=APPROVALS, message=message)
    relaxed.wait("chat.update")
    assert _publishes(bot) == 1


def test_approve_publishes_once_and_updates_the_message(bot) -> None:
    message = _request(bot)
    approve = button(message, "Approve")
    bot.click(approve, user=MANAGER, channel=APPROVALS, message=message)
    update = _wait_update(bot)
    assert update["channel"] == APPROVALS and update["ts"] == message["ts"]
    assert "*Published* by <@UMANAGER>" in text_of(update) and buttons(update) == []
    (thread,) = bot.wait("chat.postMessage", 2)[1:]
    assert thread.args["thread_ts"] == message["ts"] and "<@UCLERK>" in text_of(thread.args)
    assert _status(bot) == "Published" and _publishes(bot) == 1
    bot.click(approve, user=GROUP_MANAGER, channel=APPROVALS, message=message)  # a late click
    assert "already published by <@UMANAGER>" in text_of(bot.reply())
    assert _publishes(bot) == 1
    assert [e.outcome for e in bot.store.entries(actions=["offer.publish"])] == ["ok"]


def test_concurrent_approvals_publish_once(bot) -> None:
    message = _request(bot)
    approve = button(message, "Approve")
    bot.sandbox.latency = 0.3
    clicks = [
        threading.Thread(
            target=bot.click,
            args=(approve,),
            kwargs={"user": user, "channel": APPROVALS, "message": message},
        )
        for user in (MANAGER, GROUP_MANAGER, MANAGER, GROUP_MANAGER)
    ]
    for t in clicks:
        t.start()
    for t in clicks:
        t.join()
    _wait_update(bot)
    time.sleep(1.0)
    assert _publishes(bot) == 1 and _status(bot) == "Published"
    assert len(bot.slack.calls_to("chat.update")) == 1
    refusals = [text_of(r) for r in bot.replies(4)[1:]]  # after the request confirmation
    assert len(refusals) == 3
    assert all("publishing this offer right now" in t or "already published" in t for t in refusals)


def test_reject_with_a_reason(bot) -> None:
    message = _request(bot)
    bot.click(button(message, "Reject"), user=CLERK, channel=APPROVALS, message=message)
    assert "Only loyalty *managers* can approve or reject" in text_of(bot.reply())
    assert bot.slack.calls_to("views.open") == []
    bot.click(button(message, "Reject"), user=MANAGER, channel=APPROVALS, message=message)
    view_id, view = bot.opened_view()
    assert view["callback_id"] == "loyalty_reject_form"
    assert bot.submit(view_id, {"reject_reason": "  "}).json()["response_action"] == "errors"
    done = bot.answer(view_id, {"reject_reason": "Needs a photo"})
    assert "Rejected" in text_of(done["view"])
    update = _wait_update(bot)
    assert "*Rejected* by <@UMANAGER>: Needs a photo" in text_of(update) and buttons(update) == []
    thread = bot.wait("chat.postMessage", 2)[-1].args
    assert "<@UCLERK>" in text_of(thread) and "Needs a photo" in text_of(thread)
    assert _status(bot) == "Draft" and _publishes(bot) == 0
    bot.click(button(message, "Reject"), user=MANAGER, channel=APPROVALS, message=message)
    again, _ = bot.opened_view()  # a second rejection, from the same button
    assert "already rejected" in text_of(bot.answer(again, {"reject_reason": "again"})["view"])
    (rejection,) = bot.store.entries(actions=["offer.publish_reject"])
    assert (rejection.outcome, rejection.reason) == ("ok", "Needs a photo")


def test_edited_offer_is_not_approved(bot) -> None:
    message = _request(bot)
    bot.sandbox.state.update_offer(DEMO_PROGRAM_ID, PAN, {"pointsCost": 1})
    bot.click(button(message, "Approve"), channel=APPROVALS, message=message)
    update = _wait_update(bot)
    assert "edited after this request" in text_of(update) and buttons(update) == []
    assert _publishes(bot) == 0 and _status(bot) == "Draft"


def test_offer_no_longer_draft(bot) -> None:
    message = _request(bot)
    bot.sandbox.state.transition_offer(DEMO_PROGRAM_ID, PAN, "publish")
    bot.sandbox.state.transition_offer(DEMO_PROGRAM_ID, PAN, "cancel")
    bot.click(button(message, "Approve"), channel=APPROVALS, message=message)
    assert "The offer is now Canceled" in text_of(_wait_update(bot))
    assert _publishes(bot) == 0


def test_failure_keeps_the_buttons_then_retry_publishes(bot) -> None:
    message = _request(bot)

    def broken(method: str, path: str) -> None:
        if path.endswith("/publish"):
            raise RuntimeError("smart passes is down")  # the server answers 500

    bot.sandbox.before = broken
    bot.click(button(message, "Approve"), channel=APPROVALS, message=message)
    failed = _wait_update(bot)
    shown = text_of(failed)
    assert "Publishing did not finish" in shown and "HTTP 500" in shown
    assert "checking showed nothing was changed" in shown
    assert [b["text"]["text"] for b in buttons(failed)] == ["Approve", "Reject"]
    assert _status(bot) == "Draft"
    bot.sandbox.before = None
    bot.click(button(failed, "Approve"), channel=APPROVALS, message=message)
    assert "*Published*" in text_of(_wait_update(bot, 2))
    assert _status(bot) == "Published"
    assert [e.outcome for e in bot.store.entries(actions=["offer.publish"])] == ["ok", "failed"]


def test_pending_request_survives_a_restart(bot, sandbox, sandbox_url, sqlite_url) -> None:
    message = _request(bot)
    with running_bot(
        sandbox, sandbox_url, sqlite_url, slack=bot.slack, loyalty_approvals_channel=APPROVALS
    ) as restarted:
        restarted.command("approvals", user=CLERK)
        assert "Pan dulce 2x1" in text_of(restarted.replies(2)[-1])
        restarted.click(button(message, "Approve"), channel=APPROVALS, message=message)
        assert "*Published*" in text_of(restarted.wait("chat.update")[-1].args)
    assert _status(bot) == "Published" and _publishes(bot) == 1


def test_request_publication_button_on_a_draft_card(bot) -> None:
    bot.command("offer 5002", user=CLERK)
    bot.click(button(bot.reply(), "Request publication"), user=CLERK)
    assert "Asked the managers" in text_of(bot.reply())
    assert bot.slack.messages[-1].channel == APPROVALS


def test_request_publication_clicked_twice_asks_once(bot) -> None:
    bot.command("offer pan dulce", user=CLERK)
    card = bot.reply()
    ask = button(card, "Request publication")
    clicks = [
        threading.Thread(target=bot.click, args=(ask,), kwargs={"user": CLERK}) for _ in range(2)
    ]
    for t in clicks:
        t.start()
    for t in clicks:
        t.join()
    answers = [text_of(r) for r in bot.replies(3)[1:]]
    assert sum("Asked the managers" in a for a in answers) == 1
    assert sum("already received" in a for a in answers) == 1
    assert len(bot.store.open_approvals()) == 1
    assert len([m for m in bot.slack.messages if m.channel == APPROVALS]) == 1
