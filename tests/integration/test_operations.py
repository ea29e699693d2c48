"""What operators check: /healthz (the database now, the Loyalty API as it last answered)
and `loyalty-bot checkup`, a checklist of everything a deployment relies on."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from bot.offline.sandbox import DEMO_PROGRAM_ID
from bot.offline.slack_standin import SlackStandIn, SlackUser
from bot.runtime.wsgi_server import serving
from bot.store.database import Store
from tests.faults import sqlite_locked_by_another_process
from tests.harness import BOT_TOKEN, MANAGER, USERS, run_cli, running_bot


def _health(bot) -> tuple[int, dict]:
    response = bot.http.get(bot.url + "/healthz")
    return response.status_code, response.json()


def test_healthz_checks_the_database_and_reports_the_api_without_calling_it(
    sandbox, sandbox_url, sqlite_url, monkeypatch
) -> None:
    monkeypatch.setattr("bot.store.database.SQLITE_BUSY_SECONDS", 0.3)
    with running_bot(sandbox, sandbox_url, sqlite_url) as bot:
        status, report = _health(bot)
        assert status == 200 and report["database"] == "ok"
        assert report["loyalty_api"]["state"] == "not asked yet"
        bot.command("customer 1870")
        bot.reply()
        assert _health(bot)[1]["loyalty_api"]["state"] == "answering"
        calls = len(bot.sandbox.calls)
        for _ in range(5):
            _health(bot)
        assert len(bot.sandbox.calls) == calls  # probes never call Smart Passes
        bot.sandbox.fail_rate = 1.0
        bot.command("customer 1871")
        bot.reply()
        api = _health(bot)[1]["loyalty_api"]
        assert api["state"] == "failing" and api["failure"] == "HTTP 503"
        with sqlite_locked_by_another_process(urlsplit(sqlite_url).path[1:]):
            status, report = _health(bot)
        assert status == 503 and report == {**report, "ok": False, "database": "unreachable"}


def test_sqlite_keeps_a_write_ahead_log_so_readers_never_wait(sqlite_url, monkeypatch) -> None:
    """Another writer holding SQLite's write lock does not keep a read waiting; /healthz's
    probe still sees that a change could not be recorded now."""
    monkeypatch.setattr("bot.store.base.SQLITE_BUSY_SECONDS", 0.3)
    store = Store.from_url(sqlite_url)
    writer = sqlite3.connect(urlsplit(sqlite_url).path[1:], isolation_level=None)
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        writer.execute("BEGIN IMMEDIATE")
        assert store.entries(limit=5) == []  # read at once, beside the writer
        assert not store.reachable()
        writer.execute("ROLLBACK")
        assert store.reachable()
    finally:
        writer.close()
        store.engine.dispose()


def _check(env: dict[str, str], cwd) -> subprocess.CompletedProcess:
    return run_cli("checkup", env=env, cwd=cwd)


def test_check_lists_what_is_right_and_what_to_fix(sandbox_url, tmp_path) -> None:
    slack = SlackStandIn(
        token=BOT_TOKEN,
        users=[*USERS, SlackUser("UGONE", "gone", "Gone", deleted=True)],
        usergroups={"SMANAGERS": ["UGROUPMGR"], "SEMPTY": []},
        channels={"CAPPROVALS": "approvals", "CSUMMARY": "summary"},
        bot_not_in=["CSUMMARY"],
    )
    with serving(slack) as slack_url:
        slack.base_url = slack_url
        env = {
            **os.environ,
            "SMARTPASSES_APP_KEY": "sandbox-app-key",
            "SMARTPASSES_PROGRAM_ID": str(DEMO_PROGRAM_ID),
            "SMARTPASSES_BASE_URL": sandbox_url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_API_URL": slack_url + "/api/",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            "LOYALTY_MANAGERS": MANAGER,
            "LOYALTY_MANAGER_GROUP": "SMANAGERS",
            "LOYALTY_APPROVALS_CHANNEL": "CAPPROVALS",
        }
        good = _check(env, tmp_path)
        assert good.returncode == 0, good.stderr
        for line in (
            "✓ Loyalty API, program 4886905521176576: 6 customers, 2 offers",
            "✓ Slack token: the bot @loyalty in Demo shop (T0LOYALTY)",
            "✓ approvals channel (LOYALTY_APPROVALS_CHANNEL) CAPPROVALS: #approvals",
            "✓ manager UMANAGER: Marta Manager",
            "✓ managers group SMANAGERS (LOYALTY_MANAGER_GROUP): 1 member",
            "✓ the bot's database (DATABASE_URL): schema version",
            "All good.",
        ):
            assert line in good.stdout, line
        bad = _check(
            {
                **env,
                "SMARTPASSES_APP_KEY": "wrong",
                "LOYALTY_SUMMARY_CHANNEL": "CSUMMARY",
                "LOYALTY_AUDIT_CHANNEL": "CNOWHERE",
                "LOYALTY_MANAGERS": f"{MANAGER},UGONE,UNOBODY",
                "LOYALTY_MANAGER_GROUP": "SMISSING",
            },
            tmp_path,
        )
        assert bad.returncode == 1
        for line in (
            "✗ Loyalty API, program 4886905521176576: Smart Passes refused the App Key",
            "✗ summary channel (LOYALTY_SUMMARY_CHANNEL) CSUMMARY: the bot is not in #summary",
            "✗ audit channel (LOYALTY_AUDIT_CHANNEL) CNOWHERE: not found",
            "✗ manager UGONE (LOYALTY_MANAGERS): this account is deactivated",
            "✗ manager UNOBODY (LOYALTY_MANAGERS): no such user: user_not_found",
            "✗ managers group SMISSING (LOYALTY_MANAGER_GROUP): cannot be read: no_such_subteam",
        ):
            assert line in bad.stderr, line
        assert "6 problems to fix." in bad.stdout
        spanish = _check({**env, "LOYALTY_LANGUAGE": "es"}, tmp_path)  # the operator's
        for line in (
            "✓ API de lealtad, programa 4886905521176576: 6 clientes, 2 ofertas",
            "✓ grupo de gerentes SMANAGERS (LOYALTY_MANAGER_GROUP): 1 miembro",
            "Todo bien.",
        ):
            assert line in spanish.stdout, line
        refused = _check({**env, "SLACK_BOT_TOKEN": "xoxb-revoked"}, tmp_path)
        assert (
            refused.returncode == 1
            and "✗ Slack token (SLACK_BOT_TOKEN): refused: invalid_auth" in refused.stderr
        )
    # Slack gone (a network down, a wrong SLACK_API_URL): said, and the rest still checked
    unreachable = _check(env, tmp_path)
    assert unreachable.returncode == 1 and "Traceback" not in unreachable.stderr
    assert (
        "✗ Slack token (SLACK_BOT_TOKEN): Slack did not answer (URLError): check this "
        "machine's network" in unreachable.stderr
    )
    assert "✓ the bot's database (DATABASE_URL): schema version" in unreachable.stdout
    spanish = _check({**env, "LOYALTY_LANGUAGE": "es"}, tmp_path)
    assert "Slack no respondió (URLError): revisa la red de esta máquina" in spanish.stderr


def test_a_command_on_the_records_with_smart_passes_gone_says_so_in_one_line(tmp_path) -> None:
    """For cron and for whoever runs it: the reason, exit 1, no traceback."""
    with serving(SlackStandIn(token=BOT_TOKEN)) as gone:  # a port where nothing answers now
        pass
    env = {
        **os.environ,
        "SMARTPASSES_APP_KEY": "sandbox-app-key",
        "SMARTPASSES_PROGRAM_ID": str(DEMO_PROGRAM_ID),
        "SMARTPASSES_BASE_URL": gone + "/api/",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
    }
    for command in ("summary", "verify"):
        done = run_cli(command, env=env, cwd=tmp_path)
        assert done.returncode == 1 and "Traceback" not in done.stderr, command
        assert done.stderr.splitlines()[-1] == (
            "loyalty-bot: Smart Passes could not be reached. Nothing was changed; try again "
            "in a minute."
        ), command


def test_rotate_key_reencrypts_every_app_key_with_the_new_key(tmp_path) -> None:
    from bot.store.database import Store
    from bot.store.sealed import KeyBox, new_key
    from bot.store.workspaces import WorkspaceRecords

    old, new = new_key(), new_key()
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    WorkspaceRecords(Store.from_url(url).engine, KeyBox(old)).connect(
        "T1", app_key="shop-key-9876", program_id=7, user_id="U1"
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LOYALTY_"))},
        "DATABASE_URL": url,
        "SLACK_CLIENT_ID": "1.2",
        "SLACK_CLIENT_SECRET": "secret",
        "LOYALTY_ENCRYPTION_KEY": f"{new},{old}",
    }
    old_left_out = run_cli("rotate-key", env={**env, "LOYALTY_ENCRYPTION_KEY": new}, cwd=tmp_path)
    assert old_left_out.returncode == 1 and "keep the old keys" in old_left_out.stderr
    assert "Traceback" not in old_left_out.stderr
    still = WorkspaceRecords(Store.from_url(url).engine, KeyBox(old)).get("T1")
    assert still.app_key(KeyBox(old)).get_secret_value() == "shop-key-9876"  # unchanged
    done = run_cli("rotate-key", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Re-encrypted 1 App Key" in done.stdout and "shop-key" not in done.stdout
    records = WorkspaceRecords(Store.from_url(url).engine, KeyBox(new))
    assert records.get("T1").app_key(KeyBox(new)).get_secret_value() == "shop-key-9876"
    missing = run_cli("serve", env={**env, "LOYALTY_ENCRYPTION_KEY": ""}, cwd=tmp_path)
    assert missing.returncode == 2 and "LOYALTY_ENCRYPTION_KEY" in missing.stderr
    unset = {k: v for k, v in env.items() if k != "LOYALTY_ENCRYPTION_KEY"}
    refused = run_cli("serve", env=unset, cwd=tmp_path)
    assert refused.returncode == 2 and "LOYALTY_ENCRYPTION_KEY is not set" in refused.stderr
    one_shop = run_cli("checkup", env=env, cwd=tmp_path)
    assert one_shop.returncode == 2 and "installed in any workspace" in one_shop.stderr


def test_bench_help_prints_help_and_runs_nothing() -> None:
    import subprocess
    import sys

    for argv in (["bench", "--help"], ["bench", "lookup", "--help"]):
        shown = subprocess.run(
            [sys.executable, str(Path(__file__).resolve().parents[2] / "dev.py"), *argv],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert shown.returncode == 0 and "Names: lookup," in shown.stdout, shown
        assert "==" not in shown.stdout  # no benchmark started
