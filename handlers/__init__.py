"""Slack glue: each module has `register(app, ...)`; `register_all` wires them up."""

from __future__ import annotations

from slack_bolt import App

from handlers import actions, approvals, commands, confirmations, errors, modals
from handlers.context import Services


def register_all(app: App, services: Services) -> None:
    errors.register(app)
    commands.register(app, services)
    actions.register(app, services)
    actions.register_card_buttons(app, services)
    modals.register(app, services)
    confirmations.register(app, services)
    approvals.register(app, services)
