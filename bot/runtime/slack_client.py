"""The bot's Slack Web API client, which remembers who it is."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.web import SlackResponse


class BotClient(WebClient):
    """A WebClient that keeps Slack's answer to `auth.test` for its own token: a token's
    workspace and bot user do not change while the process runs.

    Bolt asks `auth.test` before a process's first request is acked, unless it was given
    the answer when the app was made (`token_verification_enabled`, which asks this
    client). The process asks once as it starts (`workspace_of`); the app is then made
    with that answer (`knows_itself`), so no ack waits on Slack's API. If Slack could not
    be reached at the start, the first request still asks."""

    _itself: SlackResponse | None = None

    def auth_test(self, **kwargs: Any) -> SlackResponse:
        if kwargs.keys() - {"token"} or kwargs.get("token", self.token) != self.token:
            return super().auth_test(**kwargs)  # another token, or more asked of it
        known = self._itself
        if known is None:
            known = self._itself = super().auth_test(**kwargs)
        return known

    @property
    def knows_itself(self) -> bool:
        return self._itself is not None
