"""The bot's Slack client asks auth.test for its own token once, and keeps the answer (in
the database too, for a start while Slack is away)."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError

from bot.runtime.slack_client import BotClient
from bot.store.database import Store
from bot.store.schema import bot_identity
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


def test_slacks_answer_is_kept_under_the_tokens_digest_and_serves_a_later_start(
    store_url, slack_standin
) -> None:
    store = Store.from_url(store_url)
    client = BotClient(token=BOT_TOKEN, base_url=slack_standin.base_url + "/api/")
    for _ in range(2):  # every start keeps its answer: the latest, once
        store.remember_identity(BOT_TOKEN, client.answer())
    with store.engine.connect() as conn:
        rows = conn.execute(bot_identity.select()).all()
    assert len(rows) == 1 and BOT_TOKEN not in str(rows)  # never the token itself
    later = BotClient(token=BOT_TOKEN, base_url="http://127.0.0.1:9/api/")  # Slack away
    kept = store.identity(BOT_TOKEN)
    assert kept is not None
    later.assume(kept)
    assert later.knows_itself and later.auth_test(token=BOT_TOKEN)["team_id"] == TEAM
    assert store.identity("xoxb-another-token") is None
    store.engine.dispose()
