"""What a deployment relies on: the manifest, the Procfile under gunicorn, Socket Mode,
structured logs and the App Home tab."""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.offline.slack_requests import SlackRequests
from bot.offline.slack_standin import SlackStandIn
from bot.runtime.app import create_app
from bot.runtime.logs import JsonFormatter, SecretFilter
from bot.runtime.wsgi_server import serving
from bot.smartpasses.client import LoyaltyClient
from bot.store.database import Store
from handlers.commands import COMMAND
from tests.harness import (
    BOT_TOKEN,
    CLERK,
    MANAGER,
    SIGNING_SECRET,
    TEAM,
    USERS,
    bot_process,
    free_port,
    make_settings,
    process_env,
    run_cli,
    text_of,
)

ROOT = Path(__file__).resolve().parent.parent
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
    assert settings["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert len(manifest["display_information"]["long_description"]) >= 175


def test_procfile_runs_gunicorn_and_sigterm_finishes_acked_work(
    sandbox, sandbox_url, tmp_path
) -> None:
    procfile = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines())
    assert procfile["clock"] == "loyalty-bot clock"
    assert "'bot.runtime.wsgi:create()'" in procfile["web"] and "$PORT" in procfile["web"]
    port = free_port()
    slack = SlackStandIn(token=BOT_TOKEN, users=USERS)
    with serving(slack) as slack_url:
        slack.base_url = slack_url
        env = process_env(
            slack_url,
            sandbox_url,
            tmp_path,
            PORT=str(port),
            WEB_CONCURRENCY="1",
            LOYALTY_LOG_FORMAT="json",
            PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        )
        command = procfile["web"].replace("${WEB_CONCURRENCY:-2}", "1")
        command = command.replace("$PORT", str(port))
        base = f"http://127.0.0.1:{port}"
        with bot_process(shlex.split(command), env, tmp_path, base) as proc:
            sandbox.latency = 1.0
            requests = SlackRequests(base, SIGNING_SECRET, slack)
            assert requests.command("points 1870 2", user=MANAGER, channel="C1").status_code == 200
            proc.send_signal(signal.SIGTERM)  # while the points change is still under way
            assert proc.wait(timeout=30) == 0
        output = proc.output
        (reply,) = slack.calls_to("response_url")
        assert "5 → *7*" in text_of(reply.args)
        request_lines = [
            json.loads(line)
            for line in output.splitlines()
            if line.startswith("{") and '"event": "request"' in line
        ]
        assert (
            request_lines[0]["request"] == "/loyalty points" and request_lines[0]["outcome"] == "ok"
        )
        assert request_lines[0]["user"] == MANAGER and request_lines[0]["duration_ms"] >= 1000
        assert BOT_TOKEN not in output and SIGNING_SECRET not in output
        assert "sandbox-app-key" not in output


def test_production_entry_point_reports_missing_settings_in_one_line(tmp_path) -> None:
    env = {"PATH": os.environ.get("PATH", ""), "SMARTPASSES_PROGRAM_ID": "1"}
    result = subprocess.run(
        [sys.executable, "-c", "from bot.runtime.wsgi import create; create()"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 4
    assert result.stderr.strip().startswith("loyalty-bot: SMARTPASSES_APP_KEY is not set")
    assert "Traceback" not in result.stderr


def test_socket_mode_needs_an_app_token(tmp_path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SMARTPASSES_APP_KEY": "k",
        "SMARTPASSES_PROGRAM_ID": "1",
        "SLACK_BOT_TOKEN": "xoxb-1",
    }
    result = run_cli("socket", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("loyalty-bot: SLACK_APP_TOKEN is not set")


def test_socket_mode_requests_need_no_signature(sandbox_url, sqlite_url) -> None:
    slack = SlackStandIn(token=BOT_TOKEN, users=USERS)
    with serving(slack) as slack_url:
        slack.base_url = slack_url
        settings = make_settings(sandbox_url, slack_url, sqlite_url, slack_signing_secret=None)
        app = create_app(
            settings,
            client=WebClient(token=BOT_TOKEN, base_url=slack_url + "/api/"),
            loyalty=LoyaltyClient.from_settings(settings),
            store=Store.from_url(sqlite_url),
            socket_mode=True,
        )
        body = {
            "command": "/loyalty",
            "text": "customer 1870",
            "user_id": CLERK,
            "team_id": TEAM,
            "channel_id": "C1",
            "trigger_id": "t",
            "response_url": slack.response_url(),
        }
        response = app.dispatch(BoltRequest(body=body, mode="socket_mode"))
        assert response.status == 200
        (reply,) = slack.wait_for("response_url")
        assert "Juan Pérez" in text_of(reply.args)


def test_request_log_lines_and_json_format(bot, caplog) -> None:
    caplog.set_level(logging.INFO, logger="loyalty.requests")
    bot.command("points 1870 10", user=CLERK)
    bot.reply()
    bot.command("points 1870 ten")
    time.sleep(0.2)
    records = [r for r in caplog.records if getattr(r, "event", "") == "request"]
    assert [(r.request, r.user, r.outcome) for r in records] == [
        ("/loyalty points", CLERK, "refused"),
        ("/loyalty points", MANAGER, "invalid"),
    ]
    line = json.loads(JsonFormatter().format(records[0]))
    assert {
        "time",
        "level",
        "logger",
        "message",
        "kind",
        "request",
        "user",
        "outcome",
        "duration_ms",
    } <= line.keys()


def test_secret_filter_scrubs_values() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "token %s here", ("xoxb-secret-1",), None
    )
    SecretFilter(["xoxb-secret-1"]).filter(record)
    assert record.getMessage() == "token [secret] here"


def test_app_home_shows_the_role(bot) -> None:
    for user, expected in ((MANAGER, "You are a loyalty *manager*"), (CLERK, "You can look")):
        assert (
            bot.requests.event(
                {
                    "type": "app_home_opened",
                    "user": user,
                    "tab": "home",
                    "channel": "D1",
                    "event_ts": "1.1",
                }
            ).status_code
            == 200
        )
        call = bot.slack.wait_for("views.publish", lambda c, u=user: c.args["user_id"] == u)[0]
        assert expected in text_of(
            json.loads(call.args["view"])
            if isinstance(call.args["view"], str)
            else call.args["view"]
        )
