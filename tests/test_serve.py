"""`loyalty-bot serve` as a real process: configuration from the environment, /healthz,
and a signed slash command answered through the Slack stand-in."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx

from bot.slack_requests import SlackRequests
from bot.slack_standin import SlackStandIn
from bot.wsgi_server import serving
from tests.harness import BOT_TOKEN, MANAGER, SIGNING_SECRET, USERS


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_end_to_end(sandbox, sandbox_url, tmp_path) -> None:
    slack = SlackStandIn(token=BOT_TOKEN, users=USERS)
    with serving(slack) as slack_url:
        slack.base_url = slack_url
        port = _free_port()
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack_url + "/api/",
            "SMARTPASSES_APP_KEY": "sandbox-app-key",
            "SMARTPASSES_PROGRAM_ID": "4886905521176576",
            "SMARTPASSES_BASE_URL": sandbox_url,
            "LOYALTY_MANAGERS": MANAGER,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    health = httpx.get(base + "/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            assert health.status_code == 200 and health.json()["ok"]

            requests = SlackRequests(base, SIGNING_SECRET, slack)
            response = requests.command("points 1870 3", user=MANAGER, channel="C1")
            assert response.status_code == 200
            (reply,) = slack.wait_for("response_url")
            assert "5 → *8*" in reply.args["blocks"][0]["text"]["text"]
        finally:
            proc.terminate()
            output = proc.communicate(timeout=10)[0]
        assert BOT_TOKEN not in output and SIGNING_SECRET not in output


def test_serve_without_slack_settings_says_what_is_missing(tmp_path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SMARTPASSES_APP_KEY": "k",
        "SMARTPASSES_PROGRAM_ID": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--port", "0"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "loyalty-bot: SLACK_BOT_TOKEN is not set: put the bot token from your Slack app's "
        "OAuth & Permissions page there (it starts with xoxb-)."
    )


def test_serve_finishes_acked_work_on_sigterm(sandbox, sandbox_url, tmp_path) -> None:
    slack = SlackStandIn(token=BOT_TOKEN, users=USERS)
    with serving(slack) as slack_url:
        slack.base_url = slack_url
        port = _free_port()
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack_url + "/api/",
            "SMARTPASSES_APP_KEY": "sandbox-app-key",
            "SMARTPASSES_PROGRAM_ID": "4886905521176576",
            "SMARTPASSES_BASE_URL": sandbox_url,
            "LOYALTY_MANAGERS": MANAGER,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    httpx.get(base + "/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            sandbox.latency = 1.0
            requests = SlackRequests(base, SIGNING_SECRET, slack)
            assert requests.command("points 1870 4", user=MANAGER, channel="C1").status_code == 200
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
        finally:
            proc.kill()
        (reply,) = slack.calls_to("response_url")
        assert "5 → *9*" in reply.args["blocks"][0]["text"]["text"]
