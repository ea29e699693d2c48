"""The bot scopes and events the app asks for: one list for OAuth installs (Add to Slack)
and for manifest.yml (a test keeps them equal)."""

from __future__ import annotations

BOT_SCOPES = (
    "commands",
    "chat:write",
    "users:read",
    "users:read.email",
    "usergroups:read",
    "im:write",
    "channels:read",
    "groups:read",
    "files:write",
)
BOT_EVENTS = ("app_home_opened", "app_uninstalled", "tokens_revoked", "function_executed")
