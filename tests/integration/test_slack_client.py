"""The bot's Slack client asks auth.test for its own token once, and keeps the answer."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError

from bot.runtime.slack_client import BotClient
from tests.harness import BOT_TOKEN, TEAM


def test_its_own_auth_test_is_asked_once_and_kept(slack_standin) -> None:
    client = BotClient(token=BOT_TOKEN, base_url=slack_standin.base_url + "/api/")
    assert not client.knows_itself
    first = client.auth_test()
    again = client.auth_test(token=BOT_TOKEN)  # as Bolt asks when the app is made
    assert first["team_id"] == again["team_id"] == TEAM and client.knows_itself
    assert len(slack_standin.calls_to("auth.test")) == 1


def test_a_refused_token_is_not_kept_and_another_token_is_asked(slack_standin) -> None:
    client = BotClient(token="xoxb-revoked", base_url=slack_standin.base_url + "/api/")
    for _ in range(2):
        with pytest.raises(SlackApiError):
            client.auth_test()
    assert not client.knows_itself
    for _ in range(2):  # not its own token: asked each time, never kept
        assert client.auth_test(token=BOT_TOKEN)["team_id"] == TEAM
    assert not client.knows_itself
    assert len(slack_standin.calls_to("auth.test")) == 2  # (refused calls are not recorded)
