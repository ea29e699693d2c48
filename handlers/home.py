"""The App Home tab, published when someone opens it."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.slack import views
from handlers.commands import SUBCOMMANDS
from handlers.context import Services
from handlers.observe import observing


def register(app: observing, services: Services) -> None:
    @app.event("app_home_opened")
    def home_opened(body: dict[str, Any], event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        user = event["user"]
        rows = [(s.usage, s.summary, s.examples) for s in SUBCOMMANDS]
        client.views_publish(user_id=user, view=views.home(services.roles.is_manager(user), rows))
