"""Nothing crashes after a change: one limit for reasons, checked before any call, and
every message and view cut to Slack's limits after escaping, whatever the text."""

from __future__ import annotations

import pytest

from bot.offline.sandbox import DEMO_PROGRAM_ID
from bot.slack.text import fit
from tests.harness import CLERK, button, text_of

JUAN, PAN = 1870, 5002
LONG_REASON = "r" * 3000


def _within_limits(message: dict) -> None:
    """What Slack checks on a message: at most 50 blocks, each text within its limit."""
    assert len(message.get("blocks") or []) <= 50
    for block in message.get("blocks") or []:
        if block.get("text"):
            assert len(block["text"]["text"]) <= (150 if block["type"] == "header" else 3000)
        for field in block.get("fields") or []:
            assert len(field["text"]) <= 2000
        for element in block.get("elements") or []:
            if isinstance(element.get("text"), str):
                assert len(element["text"]) <= 3000


@pytest.mark.parametrize(
    "command", [f"points 1870 10 {LONG_REASON}", f"points perez 10 {LONG_REASON}"]
)
def test_a_reason_over_the_limit_is_refused_before_anything(bot, command) -> None:
    response = bot.command(command)
    assert "Keep the reason to 300 characters (this one has 3,000)" in response.json()["text"]
    assert bot.sandbox.calls == [] and bot.store.entries() == []


def test_the_form_has_the_same_limit(bot) -> None:
    bot.command("points 1870")
    view_id, view = bot.opened_view()
    reason = next(b for b in view["blocks"] if b.get("block_id") == "points_reason")
    assert reason["element"]["max_length"] == 300
    body = bot.submit(
        view_id, {"points_op": "add", "points_amount": "1", "points_reason": LONG_REASON}
    ).json()
    assert "Keep the reason to 300 characters" in body["errors"]["points_reason"]
    assert bot.sandbox.calls_to("POST", "/points/add") == []


def test_a_reason_of_escapable_text_is_replied_and_announced(bot_with) -> None:
    bot = bot_with(loyalty_audit_channel="CAUDIT")
    bot.command("points 1870 10 " + "<" * 299)
    reply = bot.reply()
    _within_limits(reply)
    assert "5 → *15*" in text_of(reply) and "&lt;" * 299 in text_of(reply)
    (post,) = bot.wait("chat.postMessage")
    _within_limits(post.args)
    assert "<" * 2 not in post.args["text"]
    assert bot.store.entries(target_id=JUAN)[0].outcome == "ok"


@pytest.mark.parametrize("description", ["*" * 1100, "<" * 2000, "&" * 2000])
def test_an_offer_card_fits_whatever_its_description(bot, description) -> None:
    bot.sandbox.state.update_offer(DEMO_PROGRAM_ID, PAN, {"description": description})
    bot.command("offer 5002")
    card = bot.reply()
    _within_limits(card)
    shown = text_of(card)
    assert "Pan dulce 2x1" in shown
    section = next(b for b in card["blocks"] if b["type"] == "section" and b.get("text"))
    assert not section["text"]["text"].rstrip("…").endswith(("&", "&l", "&lt", "&am", "&amp"))


def test_a_publication_request_that_cannot_be_posted_is_not_left_waiting(bot_with) -> None:
    bot = bot_with(loyalty_approvals_channel="CAPPROVALS")
    bot.slack.failing["chat.postMessage"] = "invalid_blocks"
    bot.command("offer publish pan dulce", user=CLERK)
    assert "Sorry" in text_of(bot.reply())
    assert bot.store.open_approvals() == []
    (entry,) = bot.store.entries(actions=["offer.publish_request"])
    assert entry.outcome == "failed" and "not posted" in entry.detail
    del bot.slack.failing["chat.postMessage"]
    bot.command("offer publish pan dulce", user=CLERK)  # and asking again works
    assert "Asked the managers" in text_of(bot.reply())


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("abc&amp;def", 7, "abc…"),  # never half an entity
        ("ab &lt;&lt;", 9, "ab &lt;…"),
        ("hi <@U123> there", 8, "hi …"),  # never half a mention
        ("hi <@U123> there", 12, "hi <@U123> …"),
        ("short", 10, "short"),
    ],
)
def test_fit_cuts_between_entities_and_tokens(text, limit, expected) -> None:
    assert fit(text, limit) == expected
    assert len(fit(text, limit)) <= limit


def test_a_confirmation_button_over_a_long_name_still_works(bot) -> None:
    bot.sandbox.state.update_customer(DEMO_PROGRAM_ID, JUAN, {"firstName": "<" * 100})
    bot.command("customer delete 1870")
    ask = bot.reply()
    _within_limits(ask)
    bot.click(button(ask, "Delete customer"))
    assert "was deleted" in text_of(bot.reply())
