"""Offer publication end to end: the request posted in the approvals channel, Approve and
Reject clicked there, the message updated in place, the requester told in its thread."""

from __future__ import annotations

import threading

import pytest

from bot.offline.sandbox import DEMO_PROGRAM_ID
from tests.demo import PAN
from tests.harness import CLERK, GROUP_MANAGER, MANAGER, button, buttons, running_bot, text_of

APPROVALS = "CAPPROVALS"


@pytest.fixture
def bot(bot_with):
    return bot_with(loyalty_approvals_channel=APPROVALS)


def _request(bot, offer: str = "pan dulce", user: str = CLERK) -> dict:
    """Ask for publication; returns the request message as posted in the channel."""
    bot.command(f"offer publish {offer}", user=user)
    reply = bot.reply()
    assert "Asked the managers" in text_of(reply), text_of(reply)
    # where the answer will come (`_told`): not "here", an ephemeral that cannot be updated
    assert "their answer in a direct message and in the thread of" in text_of(reply)
    posted = bot.slack.messages[-1]
    return {
        "ts": posted.ts,
        "blocks": posted.blocks,
        "text": posted.text,
        "channel": posted.channel,
    }


def _click(bot, message: dict, label: str, user: str = MANAGER) -> None:
    bot.click(button(message, label), user=user, channel=APPROVALS, message=message)


def _publishes(bot) -> int:
    return len(bot.sandbox.calls_to("POST", f"/offers/{PAN}/publish"))


def _told(bot) -> tuple[dict, dict]:
    """The outcome in the request's thread, and in a DM to the requester."""
    posts = [c.args for c in bot.wait("chat.postMessage", 3)]
    thread = next(p for p in posts if p.get("thread_ts"))
    dm = next(p for p in posts if p["channel"] == "DCLERK")
    return thread, dm


def test_a_manager_rejecting_their_own_request_is_not_told_of_a_dm(bot) -> None:
    message = _request(bot, user=MANAGER)
    _click(bot, message, "Reject")
    view_id, _ = bot.opened_view()
    done = bot.answer(view_id, {"reject_reason": "Not yet"})
    assert "Rejected. The request's thread says why." in text_of(done["view"])
    bot.settle()
    posts = [c.args for c in bot.slack.calls_to("chat.postMessage")]
    assert [p for p in posts if p["channel"].startswith("D")] == []  # no DM to oneself
    assert any("Not yet" in text_of(p) for p in posts if p.get("thread_ts"))


def test_a_request_asks_the_managers_who_may_decide_it(bot_with) -> None:
    """A manager may not approve their own request: it asks the other managers, not them;
    a clerk's asks every manager."""
    from tests.harness import GERENTE

    bot = bot_with(
        loyalty_approvals_channel=APPROVALS,
        loyalty_manager_group=None,
        loyalty_managers=f"{MANAGER},{GERENTE}",
    )
    own = _request(bot, user=MANAGER)
    assert f"🔔 <@{GERENTE}>: please approve or reject." in text_of(own)
    assert f"<@{MANAGER}>:" not in text_of(own) and f"<@{MANAGER}> or" not in own["text"]
    _click(bot, own, "Reject", user=GERENTE)
    view_id, _ = bot.opened_view()
    bot.answer(view_id, {"reject_reason": "Not yet"}, user=GERENTE)
    bot.settle()
    clerks = _request(bot, user=CLERK)  # asked again, by a clerk: every manager
    assert f"<@{GERENTE}> or <@{MANAGER}>: please approve or reject" in text_of(clerks)


def test_a_request_is_posted_approved_once_and_the_requester_told(bot) -> None:
    message = _request(bot)
    assert message["channel"] == APPROVALS and "*Pan dulce 2x1*" in text_of(message)
    assert "<!subteam^SMANAGERS>: please approve or reject" in text_of(message)
    assert [b["text"]["text"] for b in buttons(message)] == ["Approve", "Reject"]
    link = bot.slack.calls_to("chat.getPermalink")[0].args
    assert link["channel"] == APPROVALS and link["message_ts"] == message["ts"]
    bot.command("approvals", user=CLERK)
    assert "|Pan dulce 2x1>" in text_of(bot.reply())  # linked to the request
    _click(bot, message, "Approve", user=CLERK)
    assert "Only loyalty *managers* can approve" in text_of(bot.reply())
    _click(bot, message, "Approve")
    update = bot.wait("chat.update")[-1].args
    assert update["channel"] == APPROVALS and update["ts"] == message["ts"]
    assert "*Published* by <@UMANAGER>" in text_of(update) and buttons(update) == []
    thread, dm = _told(bot)
    assert thread["thread_ts"] == message["ts"] and "<@UCLERK>" in text_of(thread)
    assert "was approved by <@UMANAGER> and is published" in text_of(dm)
    assert "please approve" not in text_of(update)  # no one is asked once it is decided
    _click(bot, message, "Approve", user=GROUP_MANAGER)  # a late click on the old message
    assert "already published by <@UMANAGER>" in text_of(bot.reply())
    assert _publishes(bot) == 1
    assert bot.sandbox.state.programs[DEMO_PROGRAM_ID].offers[PAN]["status"] == "Published"


def test_a_rejection_asks_why_and_tells_the_requester(bot) -> None:
    message = _request(bot)
    _click(bot, message, "Reject", user=CLERK)
    assert "Only loyalty *managers* can approve or reject" in text_of(bot.reply())
    assert bot.slack.calls_to("views.open") == []
    _click(bot, message, "Reject")
    view_id, view = bot.opened_view()
    assert view["callback_id"] == "loyalty_reject_form"
    assert bot.submit(view_id, {"reject_reason": "  "}).json()["response_action"] == "errors"
    done = bot.answer(view_id, {"reject_reason": "Needs a photo"})
    assert "Rejected. <@UCLERK> is told why in a direct message and in the request's thread." in (
        text_of(done["view"])
    )
    update = bot.wait("chat.update")[-1].args
    assert "*Rejected* by <@UMANAGER>: Needs a photo" in text_of(update) and buttons(update) == []
    thread, dm = _told(bot)
    assert "<@UCLERK>" in text_of(thread) and "Needs a photo" in text_of(thread)
    assert "rejected by <@UMANAGER>: Needs a photo" in text_of(dm)
    assert "/loyalty offer edit 5002" in text_of(dm)  # and what to do next
    _click(bot, message, "Reject")  # a second rejection, from the same button
    again, _ = bot.opened_view()
    assert "already rejected" in text_of(bot.answer(again, {"reject_reason": "again"})["view"])
    assert _publishes(bot) == 0


def test_a_request_that_cannot_be_posted_says_why(bot_with) -> None:
    unset = bot_with()
    unset.command("offer publish pan")
    shown = text_of(unset.reply())
    assert "none is set up yet" in shown and "whoever runs the bot" in shown
    assert "LOYALTY_" not in shown  # staff never see a setting's name
    outside = bot_with(loyalty_approvals_channel="CNOTIN")
    outside.slack.bot_not_in.add("CNOTIN")
    outside.command("offer publish pan")
    assert "not a member of that channel" in text_of(outside.reply())
    outside.slack.bot_not_in.clear()
    outside.slack.failing["chat.postMessage"] = "invalid_blocks"
    outside.command("offer publish pan", user=CLERK)
    assert "Sorry" in text_of(outside.reply())
    assert outside.store.open_approvals() == []


def test_request_publication_clicked_twice_asks_once(bot) -> None:
    bot.command("offer pan dulce", user=CLERK)
    ask = button(bot.reply(), "Request publication")
    clicks = [
        threading.Thread(target=bot.click, args=(ask,), kwargs={"user": CLERK}) for _ in range(2)
    ]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join()
    answers = [text_of(r) for r in bot.replies(3)[1:]]
    assert sum("Asked the managers" in a for a in answers) == 1
    assert sum("already received" in a for a in answers) == 1
    assert len(bot.store.open_approvals()) == 1
    assert len([m for m in bot.slack.messages if m.channel == APPROVALS]) == 1


def test_a_pending_request_survives_a_restart(bot, sandbox, sandbox_url, sqlite_url) -> None:
    message = _request(bot)
    with running_bot(
        sandbox, sandbox_url, sqlite_url, slack=bot.slack, loyalty_approvals_channel=APPROVALS
    ) as restarted:
        restarted.command("approvals", user=CLERK)
        assert "Pan dulce 2x1" in text_of(restarted.replies(2)[-1])
        _click(restarted, message, "Approve")
        assert "*Published*" in text_of(restarted.wait("chat.update")[-1].args)
    assert _publishes(bot) == 1
