"""Shortcuts (manifest.yml's `shortcuts`): **Add loyalty points** from anywhere in Slack,
and **Find customer in this message** on any message (an order, a sign-up form's post)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.domain.policy import Act
from bot.domain.say import N_, Name, Say
from bot.slack import blocks
from bot.slack.ids import Form, ShortcutId
from bot.slack.text import mrkdwn
from bot.smartpasses.models import Customer
from handlers import modals
from handlers.after_ack import after_ack
from handlers.context import Env
from handlers.home import choose_customer
from handlers.parsing import names_in, references_in

# A response_url takes five replies: the cards shown for one message, at most.
MOST_CARDS = 5
NOTHING_TO_READ = N_(
    "I found no email, phone number or customer's full name in that message, so there is no "
    "customer to show."
)
NO_COUNTRY = N_(
    "Phone numbers without a country code are read only when the shop's country is set."
)


def find_in_message(env: Env, body: dict[str, Any]) -> None:
    """The cards of the customers whose email or phone the message names, with their
    usual buttons; that nobody matches, when nobody does."""
    text = str((body.get("message") or {}).get("text") or "")
    region = env.settings.loyalty_default_region
    references = references_in(text, region)
    if not references:
        named = _named_in(env, text)
        if named:
            for customer in named[:MOST_CARDS]:
                env.reply(blocks.customer_card(env.service.customer(customer.id), env.allows))
            return
        said = [Say(NOTHING_TO_READ)] + ([] if region else [Say(NO_COUNTRY)])
        env.reply(blocks.notice(" ".join(mrkdwn(s) for s in said)))
        return
    found: dict[int, Customer] = {}
    for reference in references:
        for customer in env.service.find_customers(reference).matches:
            found.setdefault(customer.id, customer)
    if not found:
        env.reply(
            blocks.notice(
                mrkdwn(
                    Say(
                        "No customer has {references}.",
                        references=Name(", ".join(references)),
                    )
                )
            )
        )
        return
    for customer in list(found.values())[:MOST_CARDS]:
        env.reply(blocks.customer_card(env.service.customer(customer.id), env.allows))


def _named_in(env: Env, text: str) -> list[Customer]:
    """The customers a message names by their whole name (`Juana Pérez quiere canjear`),
    as the list holds them: the list alone, never read again for a message's words."""
    found: dict[int, Customer] = {}
    for name in names_in(text):
        for customer in env.service.find_customers(f'"{name}"', in_the_list=True).matches:
            found.setdefault(customer.id, customer)
    return list(found.values())


def register(app: App) -> None:
    @app.shortcut(ShortcutId.ADD_POINTS)
    def add_points(ack: Ack, env: Env) -> None:
        """The customer type-ahead, then the points form (as the Home tab's Add points)."""
        ack()
        env.service.permit(env.actor, Act.ADD_POINTS)
        choose_customer(env, modals.title(env, Form.POINTS), Form.POINTS)

    app.shortcut(ShortcutId.FIND_IN_MESSAGE)(after_ack(find_in_message))
