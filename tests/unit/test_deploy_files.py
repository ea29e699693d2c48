"""What a deployment reads: the manifest asks for exactly the scopes the code uses and
points at what is served; secrets never reach a log line."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import yaml

from bot.domain.logs import SecretFilter
from bot.runtime.scopes import BOT_EVENTS, BOT_SCOPES
from bot.slack.ids import ShortcutId
from handlers.commands import COMMAND
from handlers.steps import STEPS, USER, manifest_functions

ROOT = Path(__file__).resolve().parents[2]
# Every Slack Web API method the bot calls, and the bot scope it needs (None: no scope).
METHOD_SCOPES = {
    "chat_postMessage": "chat:write",
    "chat_postEphemeral": "chat:write",
    "chat_update": "chat:write",
    "chat_getPermalink": None,
    "auth_test": None,
    "users_info": "users:read",
    "usergroups_users_list": "usergroups:read",
    "conversations_open": "im:write",
    "conversations_info": "channels:read",  # and groups:read, for private channels
    "views_open": None,
    "views_update": None,
    "views_publish": None,
    "files_getUploadURLExternal": "files:write",
    "files_completeUploadExternal": "files:write",
}


def _manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_has_every_scope_the_code_needs() -> None:
    sources = [
        *ROOT.joinpath("handlers").glob("*.py"),
        *(p for p in ROOT.joinpath("bot").rglob("*.py") if "offline" not in p.parts),
    ]
    called = {
        m
        for path in sources
        for m in re.findall(r"\bclient\.([a-z]+_[A-Za-z_]+)\(", path.read_text())
    }
    unknown = called - METHOD_SCOPES.keys()
    assert not unknown, f"add these Web API methods and their scopes to METHOD_SCOPES: {unknown}"
    needed = {METHOD_SCOPES[m] for m in called} - {None}
    needed |= {"commands", "users:read.email"}  # the slash command; emails for @mentions
    needed |= {"groups:read"}  # conversations.info on private channels
    scopes = set(_manifest()["oauth_config"]["scopes"]["bot"])
    assert needed <= scopes, needed - scopes
    assert scopes - needed == set(), "a scope nothing uses"


def test_oauth_installs_ask_for_the_manifests_scopes_and_events() -> None:
    manifest = _manifest()
    assert list(BOT_SCOPES) == manifest["oauth_config"]["scopes"]["bot"]
    assert list(BOT_EVENTS) == manifest["settings"]["event_subscriptions"]["bot_events"]
    assert manifest["oauth_config"]["redirect_urls"] == ["https://YOUR-HOST/slack/oauth_redirect"]


def test_manifest_command_and_urls_match_what_is_served() -> None:
    manifest = _manifest()
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == COMMAND and command["should_escape"] is True
    settings = manifest["settings"]
    urls = [
        command["url"],
        settings["interactivity"]["request_url"],
        settings["event_subscriptions"]["request_url"],
    ]
    assert all(url == "https://YOUR-HOST/slack/events" for url in urls)
    assert settings["interactivity"]["is_enabled"] is True
    assert "app_home_opened" in settings["event_subscriptions"]["bot_events"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert len(manifest["display_information"]["long_description"]) >= 175


def test_manifest_declares_every_workflow_step_as_the_code_runs_it() -> None:
    manifest = _manifest()
    assert manifest["functions"] == manifest_functions()
    assert set(manifest["functions"]) == {
        "add_loyalty_points",
        "record_sale",
        "redeem_reward",
        "find_customer",
        "create_customer",
    }
    for step in STEPS:  # every step is acted as someone, whose role decides
        acting = [p for p in step.inputs if p.type == USER]
        assert [(p.name, p.required) for p in acting] == [("acting_user", True)], step
    settings = manifest["settings"]
    assert settings["org_deploy_enabled"] is True and settings["function_runtime"] == "remote"
    assert "function_executed" in settings["event_subscriptions"]["bot_events"]


def test_manifest_declares_the_shortcuts_the_code_answers() -> None:
    shortcuts = _manifest()["features"]["shortcuts"]
    assert {(s["callback_id"], s["type"]) for s in shortcuts} == {
        (ShortcutId.ADD_POINTS, "global"),
        (ShortcutId.FIND_IN_MESSAGE, "message"),
    }
    assert all(len(s["name"]) <= 24 and s["description"] for s in shortcuts)


def test_secret_filter_scrubs_values() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "token %s here", ("xoxb-secret-1",), None
    )
    SecretFilter(["xoxb-secret-1"]).filter(record)
    assert record.getMessage() == "token [secret] here"


def test_secrets_hidden_later_are_scrubbed_too() -> None:
    from bot.domain.logs import _SECRETS, hide

    hide("shop-app-key-1234")
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "key %s", ("shop-app-key-1234",), None
    )
    _SECRETS.filter(record)
    assert record.getMessage() == "key [secret]"
