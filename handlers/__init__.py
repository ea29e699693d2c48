"""Slack glue: each module has `register(app, ...)`; `register_all` wires them up, with
every listener wrapped so each request gets one log line."""

from __future__ import annotations

from slack_bolt import App

from handlers import actions, approvals, commands, confirmations, errors, guards, home, modals
from handlers.context import Services
from handlers.observe import observing


def register_all(app: App, services: Services, *, team_id: str | None = None) -> None:
    guards.register(app, team_id)
    listeners = observing(app)
    errors.register(listeners)
    commands.register(listeners, services)
    actions.register(listeners, services)
    actions.register_card_buttons(listeners, services)
    modals.register(listeners, services)
    confirmations.register(listeners, services)
    approvals.register(listeners, services)
    home.register(listeners, services)
