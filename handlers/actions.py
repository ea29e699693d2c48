"""Buttons on the bot's messages."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import blocks
from bot.ids import ActionId, CustomerRef, CustomersPage, RerunCommand
from handlers.commands import run_subcommand, show_history
from handlers.context import Services, env_from_body
from handlers.parsing import tokenize


def _value(body: dict[str, Any]) -> str:
    return body["actions"][0].get("value", "")


def register(app: App, services: Services) -> None:
    @app.action(re.compile(f"^{ActionId.PICK_CUSTOMER}"))
    def pick_customer(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        choice = RerunCommand.decode(_value(body))
        env = env_from_body(services, body, client, respond, replace_original=True)
        # The same operation, now with exactly one customer; roles are checked again inside.
        args = [f"#{choice.customer_id}", *tokenize(choice.rest)]
        services.defer(lambda: run_subcommand(env, choice.command, args), body, client, respond)

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
