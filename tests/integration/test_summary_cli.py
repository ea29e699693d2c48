"""`loyalty-bot summary` as its own process: prints, posts once, says why not."""

from __future__ import annotations

import os
import subprocess

import pytest

from bot.offline.sandbox import DEMO_PROGRAM_ID
from tests.harness import BOT_TOKEN, run_cli


@pytest.fixture
def slack(slack_standin):
    return slack_standin


def test_cli_prints_and_posts_once(sandbox_url, slack, tmp_path) -> None:
    env = {
        **os.environ,
        "SMARTPASSES_APP_KEY": "sandbox-app-key",
        "SMARTPASSES_PROGRAM_ID": str(DEMO_PROGRAM_ID),
        "SMARTPASSES_BASE_URL": sandbox_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": slack.base_url + "/api/",
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return run_cli("summary", *args, env=env, cwd=tmp_path)

    printed = run()
    assert printed.returncode == 0 and "Loyalty summary" in printed.stdout
    assert "Luis Hernández" in printed.stdout and "<!date" not in printed.stdout
    missing = run("--post")
    assert missing.returncode == 2 and "LOYALTY_SUMMARY_CHANNEL is not set" in missing.stderr
    assert run("--post", "--channel", "CSUM").stdout.startswith("Posted the summary")
    (chart,) = slack.shared_files()  # right after the summary: the last two weeks' chart
    assert chart.channel == "CSUM" and chart.data().startswith(b"\x89PNG")
    assert chart.alt_text.startswith("Chart of the last 14 days: ")
    assert "already posted" in run("--post", "--channel", "CSUM").stdout
    assert len(slack.shared_files()) == 1  # nor twice
    slack.failing["chat.postMessage"] = "not_in_channel"
    failed = run("--post", "--channel", "COTHER")
    assert failed.returncode == 1
    assert failed.stderr.strip() == (
        "loyalty-bot: the summary was not posted: Slack answered "
        "'not_in_channel' (invite the bot to that channel)"
    )
    assert len(slack.calls_to("chat.postMessage")) == 2
