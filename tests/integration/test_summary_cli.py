"""`loyalty-bot summary` as its own process: prints, posts once, says why not."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.offline.sandbox import DEMO_PROGRAM_ID
from tests.faults import sqlite_locked_by_another_process
from tests.harness import BOT_TOKEN, run_cli, wait_until


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


def test_cli_says_a_summary_posted_but_not_recorded_must_not_be_posted_again(
    sandbox_url, slack, tmp_path, monkeypatch, capsys
) -> None:
    """In process (a subprocess would wait out the database's busy timeout at each attempt):
    the database is locked by another process while Slack takes the message."""
    from bot.cli.main import main
    from bot.jobs import summary as job
    from bot.store import base

    monkeypatch.setattr(job, "RECORD_WAITS_SECONDS", ())
    monkeypatch.setattr(base, "SQLITE_BUSY_SECONDS", 0.1)
    database = tmp_path / "bot.db"
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "SMARTPASSES_APP_KEY": "sandbox-app-key",
        "SMARTPASSES_PROGRAM_ID": str(DEMO_PROGRAM_ID),
        "SMARTPASSES_BASE_URL": sandbox_url,
        "DATABASE_URL": f"sqlite:///{database}",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": slack.base_url + "/api/",
    }.items():
        monkeypatch.setenv(name, value)

    def claimed() -> int:
        try:
            with sqlite3.connect(database) as db:
                return db.execute("SELECT count(*) FROM summary_posts").fetchone()[0]
        except sqlite3.OperationalError:  # not migrated yet
            return 0

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level  # the command sets up its own logging
    slack.holds["chat.postMessage"] = posting = threading.Event()
    try:
        with ThreadPoolExecutor(1) as pool:
            ran = pool.submit(main, ["summary", "--post", "--channel", "CSUM"])
            wait_until(lambda: database.exists() and claimed(), what="the day's claim")
            with sqlite_locked_by_another_process(str(database)):
                posting.set()
                assert ran.result(timeout=30) == 1
    finally:
        root.handlers[:], root.level = handlers, level
    said = capsys.readouterr().err.strip().splitlines()[-1]
    assert said.startswith("loyalty-bot: posted the summary for ")
    assert " to CSUM, but the database could not record it (the database answered " in said
    assert said.endswith("); do not post it again today")
    assert len(slack.calls_to("chat.postMessage")) == 1
