"""Every example the help gives runs on the demo data and does what it says, in English
and in Spanish (in the reader's own words): a help that fails on the first try is worse
than none."""

from __future__ import annotations

import pytest

from bot.i18n import _, speaking
from handlers.subcommands import SUBCOMMANDS
from tests.harness import GERENTE, MANAGER, text_of

EXAMPLES = [
    (row.name, example) for row in SUBCOMMANDS for usage in row.usages for example in usage.examples
]
# What must have happened first for an example to make sense.
FIRST = {"undo": "points 1870 1", "export": "points 1870 1"}  # a history to export
# Words of a reply that did not do what the example says.
FAILED = (
    "No customer matches",
    "Ningún cliente",
    "I don't know",
    "No conozco",
    "No offer matches",
    "Ninguna oferta coincide",
    "Usage:",
    "Uso:",
)


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize(("name", "example"), EXAMPLES, ids=[e for _n, e in EXAMPLES])
def test_every_help_example_does_what_it_says(bot_with, lang: str, name: str, example: str):
    user = MANAGER if lang == "en" else GERENTE
    bot = bot_with(loyalty_managers=f"{MANAGER},{GERENTE}", loyalty_approvals_channel="CAPPROVALS")
    if name in FIRST:
        bot.command(FIRST[name], user=user)
        bot.reply()
    with speaking(lang):
        typed = _(example)
    assert lang == "en" or typed != example, f"{example!r} has no Spanish words"
    seen = {m: len(bot.slack.calls_to(m)) for m in ("response_url", "views.open")}
    ack = bot.command(typed, user=user)
    assert ack.status_code == 200
    acked = text_of(ack.json()) if ack.content else ""
    bot.settle()
    posted = [c.args for c in bot.slack.calls_to("response_url")[seen["response_url"] :]]
    errors = [p["text"] for p in posted if not p.get("blocks") and p["text"].startswith("⚠️")]
    assert not errors, f"{typed!r}: {errors}"  # the one error reply: text, no blocks
    replies = [text_of(p) for p in posted]
    opened = bot.slack.calls_to("views.open")[seen["views.open"] :]
    shown = "\n".join([acked, *replies])
    assert replies or opened, f"{typed!r} gave no answer (ack: {acked!r})"
    assert not any(word in shown for word in FAILED), f"{typed!r}: {shown}"
