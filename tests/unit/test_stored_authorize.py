"""StoredAuthorize answers a token's first request from the installation Bolt reads, and
leaves to Bolt (its auth.test) what the installation cannot answer."""

from __future__ import annotations

import logging

from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import FileInstallationStore, Installation

from bot.runtime.stored_authorize import StoredAuthorize

UNREACHABLE = "http://127.0.0.1:9/api/"  # any auth.test asked would fail the test


def _authorize(tmp_path, **installed: str) -> StoredAuthorize:
    store = FileInstallationStore(base_dir=str(tmp_path), client_id="111.222")
    store.save(Installation(user_id="UOWNER", team_id="T1", team_name="Shop", **installed))
    return StoredAuthorize(
        logger=logging.getLogger(__name__),
        installation_store=store,
        client_id="111.222",
        client_secret="secret",
        client=WebClient(base_url=UNREACHABLE),
    )


def _context() -> BoltContext:
    context = BoltContext()
    context["client"] = WebClient(base_url=UNREACHABLE, timeout=1)
    context["is_enterprise_install"] = False
    return context


def test_a_workspaces_first_answer_comes_from_its_installation(tmp_path) -> None:
    authorize = _authorize(tmp_path, bot_token="xoxb-1", bot_id="B1", bot_user_id="UBOT")
    result = authorize(context=_context(), enterprise_id=None, team_id="T1", user_id="U1")
    assert result is not None
    assert (result.team_id, result.bot_id, result.bot_user_id, result.bot_token) == (
        "T1",
        "B1",
        "UBOT",
        "xoxb-1",
    )


def test_an_installation_without_the_bots_ids_is_left_to_bolt(tmp_path) -> None:
    authorize = _authorize(tmp_path, bot_token="xoxb-1")
    authorize.installation_store.find_installation(
        enterprise_id=None, team_id="T1", is_enterprise_install=False
    )
    assert "xoxb-1" not in authorize.authorize_result_cache  # Bolt asks auth.test for it
