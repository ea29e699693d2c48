"""Shortcuts end to end, as Slack sends them: the global **Add loyalty points** and the
message shortcut that finds the customers a message names."""

from __future__ import annotations

from bot.slack.ids import ShortcutId
from tests.demo import JUAN
from tests.harness import CLERK, GERENTE, button, text_of

ORDER = (
    "New web order #5521 from <mailto:juan.perez@example.com|juan.perez@example.com>, "
    "call back on 999 411 6533"
)


def test_the_add_points_shortcut_opens_the_points_form_for_the_customer_chosen(bot) -> None:
    assert bot.shortcut(ShortcutId.ADD_POINTS).status_code == 200
    view_id, view = bot.opened_view()
    assert view["callback_id"] == "loyalty_choose_customer"
    bot.submit(view_id, {"customer": str(JUAN)})
    bot.slack.wait_for(
        "views.update",
        lambda c: c.args["view_id"] == view_id and "loyalty_points_form" in str(c.args["view"]),
    )
    done = bot.answer(view_id, {"points_amount": "7"})["view"]
    assert "(+7)" in text_of(done) and bot.customer_points(JUAN) == 12


def test_a_clerk_who_may_not_add_points_is_told_so_by_dm(bot) -> None:
    bot.shortcut(ShortcutId.ADD_POINTS, user=CLERK)  # clerks add nothing by default
    (dm,) = bot.wait("chat.postMessage")
    assert dm.args["channel"] == "DCLERK" and "manager" in text_of(dm.args).lower()
    assert bot.slack.calls_to("views.open") == []


def test_the_message_shortcut_shows_each_customer_the_message_names_once(bot) -> None:
    bot.message_shortcut(ShortcutId.FIND_IN_MESSAGE, ORDER)
    card = bot.reply()  # the email and the national phone are both Juan: one card
    assert card["response_type"] == "ephemeral"
    assert "Juan Pérez" in text_of(card) and button(card, "History")
    assert len(bot.slack.calls_to("response_url")) == 1


def test_the_message_shortcut_finds_customers_named_whole(bot) -> None:
    """`Juana Pérez quiere canjear sus puntos`: her card, from the list alone (a message's
    other words are nobody's whole name; the list is not read again for them)."""
    bot.command("customer 1870")  # the list, loaded
    bot.reply()
    reads = len(bot.sandbox.calls_to("GET", "/customers"))
    bot.message_shortcut(
        ShortcutId.FIND_IN_MESSAGE,
        "Juana Pérez quiere canjear sus puntos, y luis hernández también",
    )
    cards = [text_of(r) for r in bot.replies(3)[1:]]
    assert [c.split("\n")[0] for c in cards] == ["Juana Pérez", "Luis Hernández"], cards
    assert len(bot.sandbox.calls_to("GET", "/customers")) == reads


def test_the_message_shortcut_says_when_nothing_or_nobody_is_found(bot) -> None:
    bot.message_shortcut(ShortcutId.FIND_IN_MESSAGE, "Lunch at 2? Bring 3 chairs.")
    assert "no email, phone number or customer's full name in that message" in text_of(bot.reply())
    bot.message_shortcut(ShortcutId.FIND_IN_MESSAGE, "ask nadie@example.com", user=GERENTE)
    reply = text_of(bot.reply())
    assert "nadie@example.com" in reply and reply.startswith("Ningún cliente"), reply
    assert all(c.method == "GET" for c in bot.sandbox.calls)


def test_only_the_emails_and_phones_of_the_message_are_echoed(bot) -> None:
    bot.message_shortcut(
        ShortcutId.FIND_IN_MESSAGE, "<!channel> ping &lt;b&gt; x@evil.example *bold*"
    )
    reply = bot.reply()
    assert "x@evil.example" in text_of(reply) and "<!channel>" not in str(reply)
