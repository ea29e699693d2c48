"""Who may do what: one table in the code (bot.policy) and in the README, asked by every
command, button and form, and followed by the buttons each person is shown."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from bot.core.policy import POLICY, Act
from bot.offline.sandbox import DEMO_PROGRAM_ID
from tests.faults import Gate
from tests.harness import CLERK, MANAGER, button, buttons, text_of

CAFE, PAN = 5001, 5002  # Café Gratis is published, Pan dulce a draft
APPROVALS = "CAPPROVALS"
ROOT = Path(__file__).resolve().parent.parent


def _labels(message: dict) -> list[str]:
    return [b["text"]["text"] for b in buttons(message)]


def _offer(bot) -> dict:
    return bot.sandbox.state.programs[DEMO_PROGRAM_ID].offers


def test_the_readme_table_is_the_policy() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Who may do what", 1)[1].split("\n\n", 2)[1]
    rows = re.findall(r"^\| (.+?) \| (.+?) \|$", section, re.M)[1:]  # after the header
    assert {act: who for act, who in rows} == {a.value: w.value for a, w in POLICY.items()}


def test_a_clerk_cannot_edit_a_published_offer(bot) -> None:
    bot.command(f"offer edit {CAFE}", user=CLERK)
    _, view = bot.opened_view()
    assert "Only loyalty *managers* can edit published or canceled offers" in text_of(view)
    # A crafted submission (a manager's form, sent by the clerk) is refused too.
    bot.command(f"offer edit {CAFE}")
    view_id, _ = bot.opened_view()
    answer = bot.answer(
        view_id,
        {
            "offer_cost": "0",
            "offer_auto_claim": "yes",
            "offer_description": "<!channel> free coffee",
        },
        user=CLERK,
    )
    assert "Only loyalty *managers* can edit published or canceled offers" in str(answer)
    assert [c for c in bot.sandbox.calls if c.method == "POST"] == []
    assert _offer(bot)[CAFE]["pointsCost"] == 10
    refusals = bot.store.entries(user_id=CLERK)  # opening the form, and submitting it
    assert [(e.outcome, e.target_id) for e in refusals] == [("refused", CAFE)] * 2
    bot.command(f"offer edit {CAFE}")  # a manager may (in a form of their own)
    view_id, _ = bot.opened_view()
    bot.answer(view_id, {"offer_cost": "12"})
    assert _offer(bot)[CAFE]["pointsCost"] == 12


def test_an_edit_racing_an_approved_publication_is_not_published(bot_with) -> None:
    bot = bot_with(loyalty_approvals_channel=APPROVALS)
    bot.command("offer publish pan dulce", user=CLERK)
    bot.reply()
    bot.command(f"offer edit {PAN}")  # a manager opens the form before the approval
    view_id, _ = bot.opened_view()
    message = next(m for m in bot.slack.messages if m.channel == APPROVALS)
    clicked = {"ts": message.ts, "blocks": message.blocks, "channel": APPROVALS}
    gate = Gate(bot.sandbox, "POST", f"/offers/{PAN}/publish")
    bot.click(button(clicked, "Approve"), channel=APPROVALS, message=clicked)
    assert gate.entered.wait(10)  # publishing now, holding the offer
    answers: list = []
    edit = threading.Thread(
        target=lambda: answers.append(
            bot.answer(view_id, {"offer_cost": "0", "offer_auto_claim": "yes"})
        )
    )
    edit.start()
    gate.release()
    edit.join()
    update = bot.wait("chat.update")[-1].args
    assert "*Published* by <@UMANAGER>" in text_of(update) and "*Points cost*\n15" in text_of(
        update
    )
    assert _offer(bot)[PAN]["status"] == "Published" and _offer(bot)[PAN]["pointsCost"] == 15
    assert bot.sandbox.calls_to("POST", f"/offers/{PAN}") == []  # the edit was never sent
    assert "changed by someone else" in str(answers[0])


@pytest.mark.parametrize(
    ("user", "reference", "expected"),
    [
        (CLERK, "customer 1870", ["Edit", "History"]),
        (MANAGER, "customer 1870", ["Change points", "Edit", "History", "Delete"]),
        (CLERK, f"offer {CAFE}", []),  # published: nothing a clerk may do to it
        (MANAGER, f"offer {CAFE}", ["Edit", "Cancel offer"]),
        (CLERK, f"offer {PAN}", ["Request publication", "Edit"]),
        (MANAGER, f"offer {PAN}", ["Request publication", "Edit", "Delete"]),
    ],
)
def test_buttons_follow_the_policy(bot, user, reference, expected) -> None:
    bot.command(reference, user=user)
    assert _labels(bot.reply()) == expected


def test_a_canceled_offer_has_no_edit(bot) -> None:
    _offer(bot)[CAFE]["status"] = "Canceled"
    bot.command(f"offer {CAFE}")
    assert _labels(bot.reply()) == []


@pytest.mark.parametrize("act", list(Act))
def test_every_act_has_a_rule(act) -> None:
    assert act in POLICY
