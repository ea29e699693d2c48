"""What a deployment runs: the Procfile under gunicorn (SIGTERM finishes acked work), the
production entry point and Socket Mode."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.offline.slack_requests import SlackRequests
from bot.offline.slack_standin import SlackStandIn
from bot.runtime.app import create_app
from bot.runtime.wsgi_server import serving
from bot.smartpasses.client import LoyaltyClient
from bot.store.database import Store
from bot.store.migrate import head
from tests.faults import Gate
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

ROOT = Path(__file__).resolve().parents[2]


def test_procfile_runs_gunicorn_and_sigterm_finishes_acked_work(
    sandbox, sandbox_url, tmp_path
) -> None:
    """Its release step first (as Heroku runs it: the schema upgraded before the web
    processes start), then its web process."""
    procfile = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines())
    assert procfile["clock"] == "loyalty-bot clock"
    assert procfile["release"] == "loyalty-bot migrate"
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
        released = subprocess.run(
            shlex.split(procfile["release"]),
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        assert released.stdout.strip() == f"The database is at revision {head()}."
        assert Store.from_url(env["DATABASE_URL"]).schema_version() == head()
        command = re.sub(r"\$\{WEB_CONCURRENCY:-\d+\}", "1", procfile["web"])
        command = command.replace("$PORT", str(port))
        base = f"http://127.0.0.1:{port}"
        with bot_process(shlex.split(command), env, tmp_path, base) as proc:
            gate = Gate(sandbox, "POST", "/points/add")
            requests = SlackRequests(base, SIGNING_SECRET, slack)
            assert requests.command("points 1870 2", user=MANAGER, channel="C1").status_code == 200
            assert gate.entered.wait(15)
            proc.send_signal(signal.SIGTERM)  # while the points change is at Smart Passes
            gate.release()
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
        assert request_lines[0]["user"] == MANAGER
        assert isinstance(request_lines[0]["duration_ms"], int)
        assert BOT_TOKEN not in output and SIGNING_SECRET not in output
        assert "sandbox-app-key" not in output


def _start_worker(env: dict[str, str], cwd) -> subprocess.CompletedProcess:
    """What gunicorn does first in a worker: the WSGI factory, with only `env`."""
    return subprocess.run(
        [sys.executable, "-c", "from bot.runtime.wsgi import create; create()"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_entry_point_reports_missing_settings_in_one_line(tmp_path) -> None:
    env = {"PATH": os.environ.get("PATH", ""), "SMARTPASSES_PROGRAM_ID": "1"}
    result = _start_worker(env, tmp_path)
    assert result.returncode == 4
    assert result.stderr.strip().startswith("loyalty-bot: SMARTPASSES_APP_KEY is not set")
    assert "Traceback" not in result.stderr


def test_production_entry_point_reports_a_database_it_cannot_use_in_one_line(tmp_path) -> None:
    """A driver the URL names that is not installed (psycopg2: the bot's is psycopg 3)
    stops the worker with the setting named, as a missing setting does."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SMARTPASSES_APP_KEY": "k",
        "SMARTPASSES_PROGRAM_ID": "1",
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",  # nothing answers: not asked first
        "DATABASE_URL": "postgresql+psycopg2://app@127.0.0.1:1/shop",
    }
    result = _start_worker(env, tmp_path)
    assert result.returncode == 4 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "loyalty-bot: DATABASE_URL is not a database the bot can use (needs psycopg2): put a "
        "SQLite file (sqlite:///path/to/loyalty-bot.db) or a PostgreSQL server "
        "(postgresql://user:password@host/database) there."
    )


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
