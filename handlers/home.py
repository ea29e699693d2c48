"""The App Home tab, published when someone opens it."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.slack import views
from handlers.commands import help_rows
from handlers.context import Env


def register(app: App) -> None:
    @app.event("app_home_opened")
    def home_opened(env: Env, event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        user = event["user"]
        is_manager = env.services.roles.is_manager(user)
        env.client.views_publish(user_id=user, view=views.home(is_manager, help_rows()))
