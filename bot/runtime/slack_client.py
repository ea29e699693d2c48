"""The bot's Slack Web API client, which remembers who it is."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.web import SlackResponse

_SCOPES = "x-oauth-scopes"  # the header auth.test gives the token's scopes in (Bolt reads it)


class BotClient(WebClient):
    """A WebClient that keeps Slack's answer to `auth.test` for its own token: a token's
    workspace and bot user do not change while the process runs.

    Bolt asks `auth.test` before a process's first request is acked, unless it was given
    the answer when the app was made (`token_verification_enabled`, which asks this
    client). The process asks once as it starts (`workspace_of`); the app is then made
    with that answer (`knows_itself`), so no ack waits on Slack's API. If Slack could not
    be reached at the start, the answer Slack last gave for the token (kept in the
    database: `answer`, `assume`) serves instead; only a token Slack never answered for
    here is asked about on the first request."""

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

    def answer(self) -> dict[str, Any]:
        """Slack's answer to auth.test for this token (asked if not yet), to keep."""
        answered = self.auth_test()
        data = answered.data
        assert isinstance(data, dict)  # auth.test answers JSON
        return {"data": data, "scopes": answered.headers.get(_SCOPES)}

    def assume(self, answer: dict[str, Any]) -> None:
        """Take `answer` (`answer`'s, kept from an earlier start) as Slack's answer for this
        token, so Slack need not be asked before a request's ack."""
        self._itself = SlackResponse(
            client=self,
            http_verb="POST",
            api_url=f"{self.base_url}auth.test",
            req_args={},
            data=answer["data"],
            headers={_SCOPES: answer["scopes"]} if answer.get("scopes") else {},
            status_code=200,
        )
