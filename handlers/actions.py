"""Buttons on the bot's messages that carry on a command: the Choose buttons of a picker,
and the buttons on customer and offer cards (one listener: a card button is the command
it stands for, already typed, so roles, confirmations and one-time keys work as typed),
and the customer list's pages."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App

from bot.domain.errors import AlreadyUndone, MalformedRequest
from bot.domain.say import N_
from bot.i18n import speaking
from bot.slack import blocks
from bot.slack.blocks import alerts as alert_blocks
from bot.slack.ids import (
    ActionId,
    CustomerRef,
    CustomersPage,
    OfferRef,
    OffersPage,
    PickerPage,
    RerunCommand,
    RerunText,
)
from handlers import resolve
from handlers.after_ack import after_ack
from handlers.commands import run_subcommand
from handlers.context import Env
from handlers.parsing import tokenize
from handlers.slackapi import SLACK_FAILED, why

log = logging.getLogger(__name__)

# What each card button stands for: `/loyalty <command> #<id>`.
CARD_BUTTONS: dict[str, tuple[str, type[CustomerRef] | type[OfferRef]]] = {
    ActionId.CUSTOMER_OPEN: ("customer", CustomerRef),  # a list's line
    ActionId.OFFER_OPEN: ("offer", OfferRef),
    ActionId.CUSTOMER_POINTS: ("points", CustomerRef),
    ActionId.CUSTOMER_REDEEM: ("redeem", CustomerRef),
    ActionId.CUSTOMER_EDIT: ("customer edit", CustomerRef),
    ActionId.CUSTOMER_HISTORY: ("history", CustomerRef),
    ActionId.CUSTOMER_DELETE: ("customer delete", CustomerRef),
    ActionId.OFFER_EDIT: ("offer edit", OfferRef),
    ActionId.OFFER_DELETE: ("offer delete", OfferRef),
    ActionId.OFFER_CANCEL: ("offer cancel", OfferRef),
    ActionId.OFFER_PUBLISH: ("offer publish", OfferRef),
}


# A card's button, or a list line's Open (its action id ends with the record's id).
_CARD_BUTTON = re.compile("^(" + "|".join(map(re.escape, CARD_BUTTONS)) + r")(?:_\d+)?$")


def _clicked(body: dict[str, Any]) -> dict[str, Any]:
    return (body.get("actions") or [{}])[0]


def _mark_undone(env: Env, body: dict[str, Any], entry_id: int, by: str | None) -> None:
    """The alert that was clicked, updated for everyone who sees it: that change is undone
    (in the workspace's language, as the alert was written). Its undo already stands, so
    a failure here is only logged."""
    where, message = body.get("container") or {}, body.get("message")
    if not message or where.get("is_ephemeral"):
        return
    with speaking(env.settings.loyalty_language):
        updated = alert_blocks.marked_undone(message, entry_id, by)
    try:
        env.client.chat_update(channel=where["channel_id"], ts=where["message_ts"], **updated)
    except SLACK_FAILED as exc:
        log.info("alert %s not marked undone: %s", where.get("message_ts"), why(exc))


def register(app: App) -> None:
    @app.action(re.compile(f"^{ActionId.PICK}"))
    def pick(ack: Ack, env: Env, body: dict[str, Any]) -> None:
        ack()
        choice = RerunCommand.decode(_clicked(body).get("value"))
        # The same operation, now with exactly one target; roles are checked again inside.
        # Every Choose of one picker carries one token: the first choice acts, once.
        args = [f"#{choice.target_id}", *tokenize(choice.rest)]
        once = f"click:{choice.once}" if choice.once else ""
        run_subcommand(env.replacing(), choice.command, args, once=once)

    @app.action(re.compile(f"^{ActionId.AMOUNT}"))
    def amount_chosen(ack: Ack, env: Env, body: dict[str, Any]) -> None:
        ack()
        choice = RerunText.decode(_clicked(body).get("value"))
        name, *args = tokenize(choice.text) or [""]
        once = f"click:{choice.once}" if choice.once else ""
        run_subcommand(env.replacing(), name, args, once=once)

    @app.action(ActionId.UNDO_ENTRY)
    @after_ack
    def undo_entry(env: Env, value: str, body: dict[str, Any]) -> None:
        """An alert's Undo: that one change (managers; the service checks)."""
        if not value.isdigit():
            raise MalformedRequest(N_("change"))
        try:
            result = env.service.undo_entry(env.actor, int(value))
        except AlreadyUndone:  # from another alert, or by another manager: this one says so
            _mark_undone(env, body, int(value), None)
            raise
        env.reply(blocks.undone(result))
        env.announce(result.entry)
        _mark_undone(env, body, int(value), env.user_id)

    @app.action(_CARD_BUTTON)
    def card_button(ack: Ack, env: Env, body: dict[str, Any]) -> None:
        ack()
        clicked = _clicked(body)
        match = _CARD_BUTTON.match(clicked["action_id"])
        assert match is not None  # Bolt matched it
        command, reference = CARD_BUTTONS[match.group(1)]
        ref = reference.decode(clicked.get("value"))
        target = ref.customer_id if isinstance(ref, CustomerRef) else ref.offer_id
        once = f"click:{ref.once}" if isinstance(ref, OfferRef) and ref.once else ""
        run_subcommand(env, command, [f"#{target}"], once=once)

    @app.action(re.compile(f"^{ActionId.CUSTOMERS_PAGE}"))
    @after_ack
    def customers_page(env: Env, value: str) -> None:
        wanted = CustomersPage.decode(value)
        page = env.service.customers_page(wanted.query, wanted.page, by_points=wanted.by_points)
        env.replacing().reply(blocks.customer_list(page))

    @app.action(re.compile(f"^{ActionId.OFFERS_PAGE}"))
    @after_ack
    def offers_page(env: Env, value: str) -> None:
        wanted = OffersPage.decode(value)
        offers = env.service.offers(wanted.status or None)
        env.replacing().reply(blocks.offer_list(offers, wanted.status or None, wanted.page))

    @app.action(re.compile(f"^{ActionId.PICKER_PAGE}"))
    @after_ack
    def picker_page(env: Env, value: str) -> None:
        wanted = PickerPage.decode(value)
        page, once = wanted.page, wanted.once
        if wanted.kind == "offer":
            offers = resolve.offer(env, wanted.query)
            message = blocks.offer_picker(
                offers.query, offers.matches, wanted.command, wanted.rest, page=page, once=once
            )
        else:
            customers = resolve.customer(env, wanted.query)
            message = blocks.customer_picker(
                customers.query,
                customers.matches,
                wanted.command,
                wanted.rest,
                page=page,
                once=once,
            )
        env.replacing().reply(message)
