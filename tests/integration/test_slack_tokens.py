"""Rotating Slack tokens: refreshed once across processes, saved where Bolt reads them,
and repaired where an earlier version saved only the bot's record."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.token_rotation import TokenRotator

from bot.runtime.slack_tokens import FreshInstallations
from bot.store.database import Store
from bot.store.installations import SealedInstallationStore, installation_store
from bot.store.locks import locks_for
from bot.store.sealed import KeyBox, new_key
from tests.harness import CLIENT_ID, CLIENT_SECRET, TEAM

OWNER = "UOWNER"
WHERE: dict[str, Any] = {"enterprise_id": None, "team_id": TEAM}


@pytest.fixture
def rotating(slack_standin):
    """The stand-in handing out tokens that expire within Bolt's two hours."""
    slack_standin.rotating, slack_standin.expires_in = True, 3600
    slack_standin.installer = (TEAM, OWNER)
    return slack_standin


def _installed(slack, installations: SealedInstallationStore) -> Installation:
    """Add to Slack, as Bolt's OAuth flow saves it: Allow, then the code for a token."""
    allowed = httpx.get(
        f"{slack.base_url}/oauth/v2/authorize",
        params={"client_id": CLIENT_ID, "redirect_uri": "https://bot.example/done"},
    )
    code = parse_qs(urlsplit(allowed.headers["location"]).query)["code"][0]
    answer = WebClient(base_url=slack.base_url + "/api/").oauth_v2_access(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, code=code
    )
    installation = Installation(
        app_id="ALOYALTY",
        team_id=TEAM,
        user_id=OWNER,
        bot_id="BBOT",
        bot_user_id="UBOT",
        bot_token=answer["access_token"],
        bot_refresh_token=answer["refresh_token"],
        bot_token_expires_in=answer["expires_in"],
        bot_scopes="commands",
    )
    installations.save(installation)
    return installation


def _fresh(slack, store: SealedInstallationStore, engine: Any) -> FreshInstallations:
    rotator = TokenRotator(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        client=WebClient(base_url=slack.base_url + "/api/"),
    )
    return FreshInstallations(store, rotator, locks_for(engine))


def _refreshes(slack) -> list[Any]:
    return [
        c for c in slack.calls_to("oauth.v2.access") if c.args.get("grant_type") == "refresh_token"
    ]


class _Reads:
    """The store, telling a test how many times each installation was read."""

    def __init__(self, store: SealedInstallationStore) -> None:
        self._store, self.count, self.changed = store, 0, threading.Condition()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def find_installation(self, **kwargs: Any) -> Installation | None:
        with self.changed:
            self.count += 1
            self.changed.notify_all()
        return self._store.find_installation(**kwargs)


def test_processes_reading_one_expiring_token_refresh_it_once(rotating, store_url) -> None:
    """Two processes (each its own database connections and locks), four threads each,
    all reading the installation as its token nears its end, while Slack holds the first
    refresh until every one of them has seen the old token: one refresh reaches Slack
    (a second would send a revoked refresh token). Meanwhile the others go on with the
    old token, which still works; every reader after it gets the new one."""
    box, stores = KeyBox(new_key()), [Store.from_url(store_url) for _ in range(2)]
    try:
        first = installation_store(stores[0].engine, CLIENT_ID, box)
        old = _installed(rotating, first)
        rotating.expires_in = 43200
        reads = [_Reads(installation_store(s.engine, CLIENT_ID, box)) for s in stores]
        processes = [_fresh(rotating, r, s.engine) for r, s in zip(reads, stores, strict=True)]
        held = rotating.holds["oauth.v2.access"] = threading.Event()
        got: list[Installation | None] = []

        def read(fresh: FreshInstallations) -> None:
            got.append(fresh.find_installation(**WHERE))

        threads = [threading.Thread(target=read, args=(processes[i % 2],)) for i in range(8)]
        for thread in threads:
            thread.start()
        for counted in reads:  # every thread has read the old token before Slack answers
            with counted.changed:
                assert counted.changed.wait_for(lambda c=counted: c.count >= 4, timeout=10)
        held.set()
        for thread in threads:
            thread.join(timeout=30)
        assert len(_refreshes(rotating)) == 1
        stored = first.find_installation(**WHERE)
        assert stored is not None and stored.bot_token != old.bot_token
        assert stored.bot_token in rotating.tokens
        assert len(got) == 8 and all(i is not None and i.bot_token in rotating.tokens for i in got)
        for fresh in processes:
            assert fresh.find_installation(**WHERE).bot_token == stored.bot_token
        assert stored.bot_token_expires_at > time.time() + 11 * 3600
    finally:
        for store in stores:
            store.engine.dispose()


def test_a_token_an_earlier_version_saved_only_for_the_bot_is_taken_up(rotating, store_url) -> None:
    """Before this, work outside requests refreshed a token and saved only the bot's
    record: the installation kept a refresh token Slack had revoked. Read again, the
    installation takes the bot's newer token, with no refresh."""
    store = Store.from_url(store_url)
    try:
        installations = installation_store(store.engine, CLIENT_ID, KeyBox(new_key()))
        old = _installed(rotating, installations)
        rotating.expires_in = 43200
        rotator = TokenRotator(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            client=WebClient(base_url=rotating.base_url + "/api/"),
        )
        bot = rotator.perform_bot_token_rotation(bot=old.to_bot(), minutes_before_expiration=120)
        assert isinstance(bot, Bot)
        installations.save_bot(bot)  # as the earlier version did
        assert installations.find_installation(**WHERE).bot_token == old.bot_token
        fresh = _fresh(rotating, installations, store.engine)
        found = fresh.find_installation(**WHERE)
        assert found is not None and found.bot_token == bot.bot_token
        assert installations.find_installation(**WHERE).bot_token == bot.bot_token  # saved
        assert len(_refreshes(rotating)) == 1  # the earlier version's, none since
    finally:
        store.engine.dispose()


def test_the_sweep_refreshes_only_tokens_due(rotating, store_url) -> None:
    store = Store.from_url(store_url)
    try:
        installations = installation_store(store.engine, CLIENT_ID, KeyBox(new_key()))
        _installed(rotating, installations)  # an hour left
        rotating.expires_in = 43200
        fresh = _fresh(rotating, installations, store.engine)
        assert fresh.refresh_expiring(minutes=30) == 0
        assert not _refreshes(rotating)
        assert fresh.refresh_expiring() == 1  # within the sweep's three hours
        assert fresh.refresh_expiring() == 0  # it lasts another 12 hours now
        assert len(_refreshes(rotating)) == 1
    finally:
        store.engine.dispose()


def test_a_refresh_token_used_elsewhere_is_told_and_the_token_kept(
    rotating, store_url, caplog
) -> None:
    """Slack applied a refresh whose answer never came back (the refresh token is spent
    and its new token unknown): the bot token still works until it expires, and the log
    says what restores the workspace."""
    store = Store.from_url(store_url)
    try:
        installations = installation_store(store.engine, CLIENT_ID, KeyBox(new_key()))
        old = _installed(rotating, installations)
        WebClient(base_url=rotating.base_url + "/api/").oauth_v2_access(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            grant_type="refresh_token",
            refresh_token=old.bot_refresh_token,
        )  # the answer lost on its way back
        caplog.set_level(logging.WARNING, logger="bot.runtime.slack_tokens")
        found = _fresh(rotating, installations, store.engine).find_installation(**WHERE)
        assert found is not None and found.bot_token == old.bot_token
        assert "no longer accepts the refresh token of workspace" in caplog.text
        assert "added to Slack there again (/slack/install)" in caplog.text
        assert old.bot_refresh_token not in caplog.text
    finally:
        store.engine.dispose()
