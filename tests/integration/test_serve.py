"""`loyalty-bot serve` as a real process: configuration from the environment, /healthz,
a signed slash command answered through the Slack stand-in, and a graceful SIGTERM."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlencode

from bot.offline.slack_requests import SlackRequests
from bot.offline.slack_standin import SlackStandIn
from bot.runtime.wsgi_server import serving
from tests.faults import Gate
from tests.harness import (
    BOT_TOKEN,
    MANAGER,
    SIGNING_SECRET,
    TEAM,
    USERS,
    bot_process,
    free_port,
    process_env,
    run_cli,
    text_of,
    wait_until,
)


@contextmanager
def served(slack: SlackStandIn, sandbox_url: str, tmp_path) -> Iterator[tuple[Any, SlackRequests]]:
    """`loyalty-bot serve` as its own process, healthy, with the Slack stand-in: the
    process, and signed requests to it."""
    with serving(slack) as slack_url:
        slack.base_url = slack_url
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        argv = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)]
        env = process_env(slack_url, sandbox_url, tmp_path)
        with bot_process(argv, env, tmp_path, base) as proc:
            yield proc, SlackRequests(base, SIGNING_SECRET, slack)


def test_serve_answers_then_finishes_acked_work_on_sigterm(sandbox, sandbox_url, tmp_path) -> None:
    slack = SlackStandIn(token=BOT_TOKEN, users=USERS)
    with served(slack, sandbox_url, tmp_path) as (proc, requests):
        # The process loads the customer list at start, before anyone asks.
        wait_until(lambda: sandbox.calls_to("GET", "/customers"), what="the warm-up")
        assert requests.command("points 1870 3", user=MANAGER, channel="C1").status_code == 200
        (first,) = slack.wait_for("response_url")
        assert "5 → *8*" in text_of(first.args)
        gate = Gate(sandbox, "POST", "/points/add")
        assert requests.command("points 1870 4", user=MANAGER, channel="C1").status_code == 200
        assert gate.entered.wait(15)
        proc.send_signal(signal.SIGTERM)  # while that change is at Smart Passes
        gate.release()
        assert proc.wait(timeout=30) == 0
    output = proc.output
    second = slack.calls_to("response_url")[1]
    assert "8 → *12*" in text_of(second.args)
    assert BOT_TOKEN not in output and SIGNING_SECRET not in output


def test_the_first_command_after_start_waits_on_no_auth_test(sandbox, sandbox_url, tmp_path):
    """Bolt asks Slack's auth.test before the first request's listeners run (before its
    ack) unless it has the answer: the one the process got as it started serves it."""
    slack = SlackStandIn(token=BOT_TOKEN, users=USERS)
    held = threading.Event()
    try:
        with served(slack, sandbox_url, tmp_path) as (_, requests):  # started: it asked auth.test
            slack.holds["auth.test"] = held  # from now on, Slack never answers it
            assert requests.command("points 1870 3", user=MANAGER, channel="C1").status_code == 200
            (reply,) = slack.wait_for("response_url")
    finally:
        held.set()
    assert "5 → *8*" in text_of(reply.args)
    assert len(slack.calls_to("auth.test")) == 1  # the start's: never asked again


def test_a_start_while_slack_is_away_serves_as_slack_last_answered(
    sandbox, sandbox_url, tmp_path
) -> None:
    """A start with Slack answering keeps its auth.test answer in the database. A later
    start while auth.test never answers serves that workspace: no ack waits on auth.test
    (Bolt asks it before the first request's listeners when it has no answer, and the
    request fails when it times out), and a request from another workspace is still
    refused (the workspace check has Slack's word for which one is this bot's)."""
    slack = SlackStandIn(token=BOT_TOKEN, users=USERS)
    with served(slack, sandbox_url, tmp_path):
        pass  # started: Slack answered auth.test
    held = threading.Event()
    slack.holds["auth.test"] = held
    try:
        with served(slack, sandbox_url, tmp_path) as (proc, requests):
            body = requests.command_body("points 1870 3", user=MANAGER, channel="C1")
            assert requests.signed_post(body).status_code == 200
            (reply,) = slack.wait_for("response_url")
            form = {k: v[0] for k, v in parse_qs(body).items()} | {"team_id": "TOTHER"}
            assert requests.signed_post(urlencode(form)).status_code == 403
    finally:
        held.set()
    assert "5 → *8*" in text_of(reply.args)
    assert f"serving workspace {TEAM}, as Slack last answered" in proc.output
    assert len(slack.calls_to("response_url")) == 1  # the other workspace's: nothing done


def test_serve_without_slack_settings_says_what_is_missing(tmp_path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SMARTPASSES_APP_KEY": "k",
        "SMARTPASSES_PROGRAM_ID": "1",
    }
    result = run_cli("serve", "--port", "0", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "loyalty-bot: SLACK_BOT_TOKEN is not set: put the bot token from your Slack app's "
        "OAuth & Permissions page there (it starts with xoxb-)."
    )


def test_serve_with_a_token_slack_refuses_says_so_and_stops(sandbox_url, tmp_path) -> None:
    slack = SlackStandIn(token=BOT_TOKEN, users=USERS)
    with serving(slack) as slack_url:
        slack.base_url = slack_url
        env = process_env(slack_url, sandbox_url, tmp_path, SLACK_BOT_TOKEN="xoxb-revoked")
        result = run_cli("serve", "--port", str(free_port()), env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN was refused by Slack (invalid_auth)" in result.stderr
    assert "xoxb-revoked" not in result.stderr


def test_cli_prints_one_line_not_a_traceback(tmp_path) -> None:
    env = {"PATH": "", "HOME": str(tmp_path)}
    result = run_cli("checkup", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "SMARTPASSES_APP_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr
