"""Buttons on the bot's messages."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.core.audit import Action
from bot.core.policy import Act
from bot.core.service import CUSTOMER_DELETE, OFFER_CANCEL, OFFER_DELETE
from bot.slack import blocks
from bot.slack.ids import ActionId, CustomerRef, CustomersPage, Form, OfferRef, RerunCommand
from handlers import confirmations, modals
from handlers.commands import run_subcommand, show_history
from handlers.context import Services, env_from_body
from handlers.observe import observing
from handlers.parsing import tokenize


def _value(body: dict[str, Any]) -> str:
    return body["actions"][0].get("value", "")


def register(app: observing, services: Services) -> None:
    @app.action(re.compile(f"^{ActionId.PICK}"))
    def pick(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        choice = RerunCommand.decode(_value(body))
        env = env_from_body(services, body, client, respond, replace_original=True)
        # The same operation, now with exactly one target; roles are checked again inside.
        # Every Choose of one picker carries one token: the first choice acts, once.
        args = [f"#{choice.target_id}", *tokenize(choice.rest)]
        once = f"click:{choice.once}" if choice.once else ""
        run_subcommand(env, choice.command, args, body, once=once)

    @app.action(re.compile(f"^{ActionId.CUSTOMERS_PAGE}"))
    def customers_page(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        wanted = CustomersPage.decode(_value(body))
        env = env_from_body(services, body, client, respond, replace_original=True)
        services.defer(
            lambda: env.reply(
                blocks.customer_list(env.service.customers_page(wanted.query, wanted.page))
            ),
            body,
            client,
            respond,
        )

    @app.action(ActionId.CUSTOMER_HISTORY)
    def customer_history(
        ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        env = env_from_body(services, body, client, respond)
        customer_id = CustomerRef.decode(_value(body)).customer_id
        services.defer(lambda: show_history(env, customer_id), body, client, respond)


def register_card_buttons(app: observing, services: Services) -> None:
    """The buttons on customer and offer cards."""

    @app.action(ActionId.CUSTOMER_POINTS)
    def change_points(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        env = env_from_body(services, body, client, respond)
        services.roles.require(env.user_id, Act.CHANGE_POINTS, team_id=env.team_id)
        modals.open_customer_form(
            env, Form.POINTS, f"#{CustomerRef.decode(_value(body)).customer_id}"
        )

    @app.action(ActionId.CUSTOMER_EDIT)
    def edit_customer(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        env = env_from_body(services, body, client, respond)
        modals.open_customer_form(
            env, Form.CUSTOMER, f"#{CustomerRef.decode(_value(body)).customer_id}"
        )

    @app.action(ActionId.CUSTOMER_DELETE)
    def delete_customer(
        ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        env = env_from_body(services, body, client, respond)
        customer_id = CustomerRef.decode(_value(body)).customer_id
        services.defer(
            lambda: confirmations.ask(env, CUSTOMER_DELETE, customer_id), body, client, respond
        )

    @app.action(ActionId.OFFER_EDIT)
    def edit_offer(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        env = env_from_body(services, body, client, respond)
        modals.open_offer_form(env, f"#{OfferRef.decode(_value(body)).offer_id}")

    def _confirm_offer(kind: Action) -> Callable[..., None]:
        def handler(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
            ack()
            env = env_from_body(services, body, client, respond)
            offer_id = OfferRef.decode(_value(body)).offer_id
            services.defer(lambda: confirmations.ask(env, kind, offer_id), body, client, respond)

        return handler

    app.action(ActionId.OFFER_DELETE)(_confirm_offer(OFFER_DELETE))
    app.action(ActionId.OFFER_CANCEL)(_confirm_offer(OFFER_CANCEL))
