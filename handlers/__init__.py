"""Bolt listeners, and what runs around them. Each module has `register(app)`;
`register_all` wires them up after the middleware (the workspace guard, then the request
context every listener is handed as `env`)."""

from __future__ import annotations

from slack_bolt import App

from handlers import actions, approvals, commands, confirmations, guards, home, middleware, modals
from handlers.context import Services


def register_all(app: App, services: Services, *, team_id: str | None = None) -> None:
    guards.register(app, team_id)
    middleware.register(app, services)
    commands.register(app)
    actions.register(app)
    modals.register(app)
    confirmations.register(app)
    approvals.register(app)
    home.register(app)
