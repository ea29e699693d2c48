"""Outside text is inert everywhere the bot shows it.

Every field that comes from outside (customer names and emails, offer names and
descriptions, reasons, promotions, what staff type) carries `<!channel>` and a disguised link; every
surface is visited (cards, lists, pickers, replies, refusals, not-found messages, forms,
the approval request and its notification, the audit channel, history, the summary, the
App Home); then every mrkdwn text and every message's `text` the bot sent Slack is
scanned. Plain-text fields (headers, buttons, inputs) never ping, so they are not."""

from __future__ import annotations

from typing import Any

import pytest

from bot.domain.earning import Promotion
from bot.offline.sandbox import DEMO_PROGRAM_ID
from tests.harness import CLERK, MANAGER, button

PING = "<!channel>"
LINK = "<http://evil.example|claim here>"
HOSTILE = f"{PING} {LINK}"
APPROVALS, AUDIT = "CAPPROVALS", "CAUDIT"


def _mrkdwn_texts(node: Any, top: bool = False) -> list[str]:
    """Every string Slack would read as mrkdwn: texts of type mrkdwn, and `text` of a
    message (not of plain_text objects, inputs or a modal's private metadata)."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            found.append(node["text"])
        if top and isinstance(node.get("text"), str):
            found.append(node["text"])
        for key, value in node.items():
            if key in ("private_metadata", "value", "initial_value", "placeholder", "state"):
                continue
            if isinstance(value, dict | list):
                found += _mrkdwn_texts(value)
    elif isinstance(node, list):
        for item in node:
            found += _mrkdwn_texts(item)
    return found


@pytest.fixture
def hostile(bot_with):
    bot = bot_with(
        loyalty_approvals_channel=APPROVALS,
        loyalty_audit_channel=AUDIT,
        loyalty_summary_channel="CSUM",
    )
    program = bot.sandbox.state.programs[DEMO_PROGRAM_ID]
    program.customers[1870].update(
        firstName=PING, lastName=LINK, email="<!here>@x.mx", humanName=HOSTILE
    )
    program.offers[5002].update(name=f"Pan {PING}", description=f"{LINK} {PING} *bold*")
    return bot


def test_nothing_outside_can_ping_or_link(hostile) -> None:
    bot = hostile
    steps = [
        "customer 1870",
        "customers channel",
        "points channel 3",  # a picker (two "channel" customers after the create below)
        f"points 1870 2 {HOSTILE}",
        "history 1870",
        "offer 5002",
        "offers",
        f"offer {PING}",
        f"customer {PING}",
        f"points 1870 +{PING}",
        f"sale 1870 250 {HOSTILE}",  # the receipt names the promotion below
        "promos",
        "summary",
        "undo",
    ]
    bot.sandbox.state.add_customer(DEMO_PROGRAM_ID, {"firstName": PING, "lastName": "Dos"})
    bot.store.add_promotion(Promotion(f"Promo {PING}", bonus=1), MANAGER, 10)
    for step in steps:
        response = bot.command(step)
        if response.content:  # answered in the ack
            assert PING not in str(_mrkdwn_texts(response.json(), top=True))
    bot.command("customer delete 1870")
    bot.command("offer publish 5002", user=CLERK)
    bot.replies(len(steps) + 1)
    message = next(m for m in bot.slack.messages if m.channel == APPROVALS)
    clicked = {"ts": message.ts, "blocks": message.blocks, "channel": APPROVALS}
    bot.click(button(clicked, "Reject"), channel=APPROVALS, message=clicked)
    view_id, _ = bot.opened_view()
    bot.answer(view_id, {"reject_reason": HOSTILE})
    bot.wait("chat.update")
    bot.command("customer edit 1870")
    view_id, _ = bot.opened_view()
    bot.answer(view_id, {"phone": "+52 555 000 1234"})
    bot.wait("chat.postEphemeral")
    bot.command("promos new")
    view_id, _ = bot.opened_view()
    bot.answer(view_id, {"promo_name": HOSTILE, "promo_kind": "bonus", "promo_value": "2"})
    bot.wait("chat.postEphemeral", count=2)
    bot.requests.event({"type": "app_home_opened", "user": MANAGER, "tab": "home"})
    bot.wait("views.publish")

    texts: list[str] = []
    for call in bot.slack.calls:
        texts += _mrkdwn_texts(call.args, top=call.method != "views.publish")
    shown = "\n".join(texts)
    assert HOSTILE.replace("<", "&lt;").replace(">", "&gt;") in shown  # it was shown...
    assert "(+1 Promo &lt;!channel&gt;)" in shown  # the sale's receipt and audit post
    assert "created promotion *&lt;!channel&gt;" in shown
    for raw in (PING, "<!here>", LINK, "<http://evil"):
        assert raw not in shown, raw  # ... and never as a ping or a link
    assert "\u200b" not in shown
