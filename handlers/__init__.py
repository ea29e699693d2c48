"""Bolt listeners, and what runs around them. Each module has `register(app)`;
`register_all` wires them up after the middleware (the workspace guard, then the request
context every listener is handed as `env`, with its workspace's services)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt import App

from handlers import (
    actions,
    approvals,
    commands,
    confirmations,
    guards,
    home,
    middleware,
    modals,
    sales,
    shortcuts,
    steps,
)

if TYPE_CHECKING:
    from handlers.context import Tenancy
    from handlers.workspace import Installed


def register_all(
    app: App,
    tenancy: Tenancy,
    *,
    team_id: str | None = None,
    installed: Installed | None = None,
) -> None:
    """`tenancy` gives each request its workspace's services; `installed` (OAuth mode)
    adds connecting, Settings and uninstalling, before every other listener."""
    guards.register(app, team_id)
    middleware.register(app, tenancy, unconnected=installed.languages if installed else None)
    if installed is not None:
        from handlers import workspace

        workspace.register(app, installed)
    commands.register(app)
    actions.register(app)
    modals.register(app)
    confirmations.register(app)
    approvals.register(app)
    home.register(app)
    sales.register(app)
    shortcuts.register(app)
    steps.register(app)
