"""Installed in any workspace (OAuth mode), end to end: Add to Slack through the stand-in's
OAuth, each workspace connecting its own sandbox program from the Home tab, isolation of
customers, offers, channels and records, refusals at connect, uninstalling, token
rotation, and the App Key kept out of the database file, the logs and Slack."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.jobs.summary import EveryWorkspaceClock
from bot.offline.sandbox import DEMO_APP_KEY, DEMO_PROGRAM_ID
from bot.offline.sandbox.data import SECOND_APP_KEY, SECOND_PROGRAM_ID
from bot.runtime.app import Running
from tests.demo import JUAN
from tests.harness import (
    CLERK,
    OWNER,
    SECOND_CLERK,
    SECOND_OWNER,
    SECOND_TEAM,
    TEAM,
    button,
    buttons,
    installed_bot,
    text_of,
)


@pytest.fixture
def installs(sandbox, sandbox_url, sqlite_url):
    with installed_bot(sandbox, sandbox_url, sqlite_url) as kit:
        yield kit


def _both_connected(installs) -> None:
    assert installs.install(TEAM, OWNER).status_code == 200
    assert installs.install(SECOND_TEAM, SECOND_OWNER).status_code == 200
    first = installs.connect(TEAM, OWNER, DEMO_APP_KEY, DEMO_PROGRAM_ID)
    second = installs.connect(SECOND_TEAM, SECOND_OWNER, SECOND_APP_KEY, SECOND_PROGRAM_ID)
    assert "Connected to program" in text_of(first["view"]), first
    assert "Connected to program" in text_of(second["view"]), second


def _reply_to(installs, team: str, text: str, user: str) -> str:
    """What `user` is told after `/loyalty text`: in the ack, or in a reply after it."""
    bot = installs.as_team(team)
    answer = bot.command(text, user=user)
    if answer.content and answer.json().get("text"):
        bot.settle()
        return text_of(answer.json())
    return text_of(bot.reply())


def _refreshes(slack) -> list:
    """The token refreshes Slack was asked for."""
    return [
        c for c in slack.calls_to("oauth.v2.access") if c.args.get("grant_type") == "refresh_token"
    ]


@contextmanager
def _never_answered(slack, method: str) -> Iterator[None]:
    """Slack holds every `method` call from now on (released as the block ends)."""
    held = slack.holds[method] = threading.Event()
    try:
        yield
    finally:
        held.set()


def _connected_and_answered(installs) -> None:
    """The owner connects the demo program from the Home tab, then looks Juan up."""
    connected = installs.connect(TEAM, OWNER, DEMO_APP_KEY, DEMO_PROGRAM_ID)
    assert "Connected to program" in text_of(connected["view"]), connected
    assert "Juan Pérez" in _reply_to(installs, TEAM, f"customer {JUAN}", OWNER)


def test_a_workspaces_first_requests_wait_on_no_auth_test(installs) -> None:
    """Bolt's authorize asks Slack's auth.test before a workspace's first request in a
    process is acked, unless it has the answer: its installation stored it (asked once,
    as the app was installed)."""
    assert installs.install(TEAM, OWNER).status_code == 200
    slack = installs.harness.slack
    asked = len(slack.calls_to("auth.test"))  # the installation's
    with _never_answered(slack, "auth.test"):
        _connected_and_answered(installs)
    assert len(slack.calls_to("auth.test")) == asked


def test_the_install_pages_speak_the_browsers_language(installs) -> None:
    """Bolt's pages are English only: ours follow Accept-Language. A success opens Slack at
    the Home tab (where the program is connected); a cancelled or stale installation says
    nothing was installed and links back to Add to Slack."""
    done = installs.install(TEAM, OWNER, language="es-MX,es;q=0.9,en;q=0.8")
    assert done.status_code == 200 and "<h2>¡Gracias!</h2>" in done.text
    assert "El bot de lealtad quedó instalado en <b>" in done.text
    assert f"slack://app?team={TEAM}&amp;id=" in done.text and "&amp;tab=home" in done.text
    again = installs.install(SECOND_TEAM, SECOND_OWNER, language="fr-FR, en;q=0.5")
    assert "<h2>Thank you!</h2>" in again.text and "is installed in <b>" in again.text
    bot = installs.harness
    cancelled = bot.http.get(
        bot.url + "/slack/oauth_redirect?error=access_denied",
        headers={"Accept-Language": "es"},
    )
    assert "La instalación se canceló en Slack, así que no se instaló nada." in cancelled.text
    assert 'Empieza de nuevo desde <a href="/slack/install">Agregar a Slack</a>.' in cancelled.text
    stale = bot.http.get(bot.url + "/slack/oauth_redirect?code=x&state=old")  # no cookie
    assert "This installation link has expired or was opened in another browser" in stale.text
    hostile = bot.http.get(bot.url + "/slack/oauth_redirect?error=<script>x</script>")
    assert "<script>" not in hostile.text and "&lt;script&gt;" in hostile.text


def test_two_workspaces_see_only_their_own_program(installs) -> None:
    _both_connected(installs)
    auth = [c for c in installs.harness.slack.calls if c.method == "oauth.v2.access"]
    assert len(auth) == 2  # each install exchanged its code once

    first = _reply_to(installs, TEAM, f"customer {JUAN}", OWNER)
    assert "Juan Pérez" in first
    second = _reply_to(installs, SECOND_TEAM, f"customer {JUAN}", SECOND_OWNER)
    assert "Juan" not in second and "No customer" in second

    first_offers = _reply_to(installs, TEAM, "offers", OWNER)
    second_offers = _reply_to(installs, SECOND_TEAM, "offers", SECOND_OWNER)
    assert "Concha de vainilla" in second_offers and "Concha" not in first_offers

    # Each workspace's requests reached Smart Passes with its own program (and key).
    paths = {c.path for c in installs.harness.sandbox.calls}
    assert any(f"programs/{SECOND_PROGRAM_ID}/" in p for p in paths)
    assert any(f"programs/{DEMO_PROGRAM_ID}/" in p for p in paths)


def test_each_workspace_changes_points_and_posts_in_its_own_channels(installs) -> None:
    _both_connected(installs)
    sandbox = installs.harness.sandbox
    second_id = min(sandbox.state.programs[SECOND_PROGRAM_ID].customers)
    before = sandbox.state.customer(SECOND_PROGRAM_ID, second_id)["points"]
    _save_settings(installs, SECOND_TEAM, SECOND_OWNER, audit_channel="CSECONDAUDIT")
    _save_settings(installs, TEAM, OWNER, audit_channel="CFIRSTAUDIT")

    reply = _reply_to(installs, SECOND_TEAM, f"points {second_id} 7 welcome", SECOND_OWNER)
    assert "→" in reply
    assert sandbox.state.customer(SECOND_PROGRAM_ID, second_id)["points"] == before + 7
    assert sandbox.state.customer(DEMO_PROGRAM_ID, JUAN)["points"] == 5  # untouched

    slack = installs.harness.slack
    posted = slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == "CSECONDAUDIT")
    assert posted[0].team == SECOND_TEAM  # with the second workspace's own token
    assert not [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "CFIRSTAUDIT"]

    # Each workspace's records are its own.
    store = installs.harness.store
    second_entries = store.for_workspace(SECOND_TEAM).entries(limit=None)
    assert [(e.target_id, e.after) for e in second_entries if e.action == "points.add"] == [
        (second_id, before + 7)
    ]
    assert not [e for e in store.for_workspace(TEAM).entries(limit=None) if e.target_id]


def test_each_summary_posts_once_at_its_workspaces_own_time(installs) -> None:
    _both_connected(installs)
    _save_settings(
        installs, TEAM, OWNER, summary_channel="CFIRSTSUM", summary_time="09:00", timezone="UTC"
    )
    _save_settings(
        installs,
        SECOND_TEAM,
        SECOND_OWNER,
        summary_channel="CSECONDSUM",
        summary_time="09:00",
        timezone="America/Mexico_City",
        language="es",
    )
    clock = EveryWorkspaceClock(installs.workspaces)
    morning_utc = dt.datetime(2026, 11, 27, 9, 1, tzinfo=dt.UTC)  # 03:01 in Mexico City
    posted = clock.tick(morning_utc)
    assert [(p.channel, p.already) for p in posted] == [("CFIRSTSUM", False)]
    assert clock.tick(morning_utc + dt.timedelta(minutes=1)) == []  # once
    later = dt.datetime(2026, 11, 27, 15, 1, tzinfo=dt.UTC)  # 09:01 in Mexico City
    assert [p.channel for p in clock.tick(later)] == ["CSECONDSUM"]
    slack = installs.harness.slack
    summaries = {c.args["channel"]: c for c in slack.calls_to("chat.postMessage")}
    assert summaries["CFIRSTSUM"].team == TEAM and summaries["CSECONDSUM"].team == SECOND_TEAM
    assert "Resumen" in summaries["CSECONDSUM"].args["text"]  # its own language


def test_a_wrong_key_or_program_is_refused_at_connect_and_nothing_is_saved(installs) -> None:
    installs.install(TEAM, OWNER)
    wrong_key = installs.connect(TEAM, OWNER, "not-a-key", DEMO_PROGRAM_ID)
    assert "did not accept this App Key" in text_of(wrong_key["view"])
    wrong_program = installs.connect(TEAM, OWNER, SECOND_APP_KEY, DEMO_PROGRAM_ID)
    assert "no program with that ID" in text_of(wrong_program["view"])
    malformed = installs.connect(TEAM, OWNER, DEMO_APP_KEY, 0)
    assert "program_id" in malformed["errors"]
    workspace = installs.workspaces.records.get(TEAM)
    assert workspace is not None and not workspace.connected
    assert "not connected" in _reply_to(installs, TEAM, "customers", OWNER)


def test_before_it_is_connected_everyone_is_told_who_can_connect(installs) -> None:
    installs.install(TEAM, OWNER)
    clerk_home = installs.home(TEAM, CLERK)
    assert not buttons(clerk_home)
    assert f"<@{OWNER}>" in text_of(clerk_home)
    owner_home = installs.home(TEAM, OWNER)
    assert button(owner_home, "Connect Smart Passes")
    calls_before = len(installs.harness.sandbox.calls)
    reply = _reply_to(installs, TEAM, "points 1870 10", CLERK)
    assert "not connected to Smart Passes yet" in reply and f"<@{OWNER}>" in reply
    assert len(installs.harness.sandbox.calls) == calls_before  # nothing reached the API


def test_only_the_installer_or_an_admin_may_connect(installs) -> None:
    installs.install(TEAM, OWNER)
    bot = installs.as_team(TEAM)
    home = installs.home(TEAM, OWNER)
    installs.home(TEAM, CLERK)  # the clerk's tab has no such button: a forged click
    bot.click_in_home(button(home, "Connect Smart Passes"), user=CLERK)
    _, shown = bot.opened_view()
    assert "Only" in text_of(shown) and shown["callback_id"] != "loyalty_connect_form"


def test_an_uninstalled_workspace_is_refused_and_forgotten(installs) -> None:
    _both_connected(installs)
    second_id = min(installs.harness.sandbox.state.programs[SECOND_PROGRAM_ID].customers)
    assert "→" in _reply_to(installs, SECOND_TEAM, f"points {second_id} 3", SECOND_OWNER)
    bot = installs.as_team(SECOND_TEAM)
    bot.event({"type": "app_uninstalled"})
    bot.settle()
    records = installs.workspaces.records
    workspace = records.get(SECOND_TEAM)
    assert workspace is not None and workspace.uninstalled_at and workspace.sealed_key is None
    slack, sandbox = installs.harness.slack, installs.harness.sandbox
    before_slack, before_api = len(slack.calls), len(sandbox.calls)
    refused = bot.requests.command("customers", user=SECOND_OWNER, channel="CSHOP")
    assert refused.status_code == 200
    assert "not installed in this workspace" in text_of(bot.reply())  # no installation
    assert len(sandbox.calls) == before_api  # nothing reached the API
    assert [c for c in slack.calls[before_slack:] if c.method != "response_url"] == []
    # The first workspace carries on.
    assert "5 → *7*" in _reply_to(installs, TEAM, f"points {JUAN} 2", OWNER)
    # Its records are kept for the retention, then purged by the clock.
    assert installs.harness.store.for_workspace(SECOND_TEAM).entries(limit=None)
    clock = EveryWorkspaceClock(installs.workspaces)
    assert clock.purge(dt.datetime.now(dt.UTC)) == []
    assert clock.purge(dt.datetime.now(dt.UTC) + dt.timedelta(days=91)) == [SECOND_TEAM]
    assert records.get(SECOND_TEAM) is None
    assert installs.harness.store.for_workspace(SECOND_TEAM).entries(limit=None) == []
    assert installs.harness.store.for_workspace(TEAM).entries(limit=None)  # kept


def test_the_app_key_never_reaches_the_database_file_logs_or_slack(
    installs, caplog, tmp_path
) -> None:
    caplog.set_level(logging.DEBUG)
    _both_connected(installs)
    _reply_to(installs, SECOND_TEAM, "customers", SECOND_OWNER)
    settings = _save_settings(installs, SECOND_TEAM, SECOND_OWNER)
    assert SECOND_APP_KEY[-4:] in text_of(settings)  # only its last 4 characters
    installs.harness.settle()
    database = Path(installs.harness.store.engine.url.database or "")
    raw = database.read_bytes() + (
        database.with_name(database.name + "-wal").read_bytes()
        if database.with_name(database.name + "-wal").exists()
        else b""
    )
    for key in (SECOND_APP_KEY, DEMO_APP_KEY):
        assert key.encode() not in raw
        assert key not in caplog.text
        for call in installs.harness.slack.calls:
            assert key not in json.dumps(call.args, default=str)
    # Slack's bot tokens are sealed too: none of the tokens handed out is in the file.
    tokens = [t for t, team in installs.harness.slack.tokens.items() if team in (TEAM, SECOND_TEAM)]
    assert tokens and all(t.startswith("xoxb-") for t in tokens)
    assert b"xoxb-" not in raw and b"xoxe-" not in raw


def test_rotating_tokens_are_refreshed_before_they_expire(sandbox, sandbox_url, sqlite_url) -> None:
    with installed_bot(sandbox, sandbox_url, sqlite_url) as installs:
        slack = installs.harness.slack
        slack.rotating, slack.expires_in = True, 60  # expires within Bolt's 120 minutes
        installs.install(TEAM, OWNER)
        installs.connect(TEAM, OWNER, DEMO_APP_KEY, DEMO_PROGRAM_ID)
        assert _refreshes(slack), "the token was never refreshed"
        assert "Juan" in _reply_to(installs, TEAM, f"customer {JUAN}", OWNER)


def test_settings_are_checked_and_apply_at_once(installs) -> None:
    _both_connected(installs)
    for zone in ("Mars/Olympus", "America"):  # a folder of zones: told, not a traceback
        refused = _save_settings(installs, TEAM, OWNER, timezone=zone)
        assert "timezone" in refused["errors"], zone
    _save_settings(installs, TEAM, OWNER, timezone="mexico city")  # as a person writes it
    records = installs.workspaces.records
    assert records.get(TEAM).settings["loyalty_timezone"] == "America/Mexico_City"
    _save_settings(installs, TEAM, OWNER, managers=f"{OWNER},{CLERK}")
    reply = _reply_to(installs, TEAM, f"points {JUAN} =40", CLERK)  # a manager now
    assert "*40*" in reply
    second_id = min(installs.harness.sandbox.state.programs[SECOND_PROGRAM_ID].customers)
    clerk_in_second = _reply_to(installs, SECOND_TEAM, f"points {second_id} =1", SECOND_CLERK)
    assert "manager" in clerk_in_second.lower()


def test_the_installer_connects_in_their_own_language(installs) -> None:
    """Before a workspace is connected it has no settings of its own, yet the person
    installing reads Spanish: the Home tab, the Connect form, its answer and the tab after
    are theirs (the deployment's language is English here)."""
    import dataclasses

    slack = installs.harness.slack
    slack.users[OWNER] = dataclasses.replace(slack.users[OWNER], locale="es-MX")
    installs.install(TEAM, OWNER)
    home = installs.home(TEAM, OWNER)
    assert "¡Bienvenido! Conecta tu programa de lealtad de Smart Passes" in text_of(home)
    bot = installs.as_team(TEAM)
    bot.click_in_home(button(home, "Conectar Smart Passes"), user=OWNER)
    view_id, form = bot.opened_view()
    assert form["title"]["text"] == "Conectar Smart Passes"
    seen = len(slack.calls_to("views.publish"))
    bot.submit(view_id, {"app_key": DEMO_APP_KEY, "program_id": str(DEMO_PROGRAM_ID)}, user=OWNER)
    bot.settle()
    done = slack.calls_to("views.update")[-1].args["view"]
    done = json.loads(done) if isinstance(done, str) else done
    assert text_of(done).startswith("✅ Conectado al programa"), text_of(done)
    after = slack.wait_for("views.publish", count=seen + 1)[-1].args["view"]
    after = json.loads(after) if isinstance(after, str) else after
    assert "Eres *gerente* de lealtad" in text_of(after)
    installs.install(SECOND_TEAM, SECOND_OWNER)
    sam = installs.home(SECOND_TEAM, SECOND_OWNER)  # reads English: his own, at once
    assert "Welcome! Connect your Smart Passes loyalty program" in text_of(sam)


def test_a_new_shop_keeps_the_time_of_its_connecting_persons_slack_profile(installs) -> None:
    """The server's clock (UTC here) would end a Mexican shop's day at 6 p.m.: the first
    connect takes the time zone in the connecting person's Slack profile and says so;
    without one, the deployment's is said. A reconnect keeps what Settings chose."""
    records = installs.workspaces.records
    installs.install(TEAM, OWNER)
    installs.install(SECOND_TEAM, SECOND_OWNER)
    first = installs.connect(TEAM, OWNER, DEMO_APP_KEY, DEMO_PROGRAM_ID)
    said = text_of(first["view"])
    assert "follow `America/Mexico_City`, your time zone in Slack; Settings changes it" in said
    assert records.get(TEAM).settings["loyalty_timezone"] == "America/Mexico_City"
    assert installs.workspaces.services_for(TEAM).settings.loyalty_timezone == "America/Mexico_City"
    second = installs.connect(SECOND_TEAM, SECOND_OWNER, SECOND_APP_KEY, SECOND_PROGRAM_ID)
    assert "follow `UTC`; Settings changes it." in text_of(second["view"])  # sam has none
    assert "loyalty_timezone" not in records.get(SECOND_TEAM).settings
    _save_settings(installs, TEAM, OWNER, timezone="Europe/Madrid")
    bot = installs.as_team(TEAM)
    bot.click_in_home(button(installs.home(TEAM, OWNER), "Reconnect Smart Passes"), user=OWNER)
    view_id, _form = bot.opened_view()
    bot.submit(view_id, {"app_key": DEMO_APP_KEY, "program_id": str(DEMO_PROGRAM_ID)}, user=OWNER)
    bot.settle()
    assert records.get(TEAM).settings["loyalty_timezone"] == "Europe/Madrid"


def test_each_workspace_sets_its_own_alert_thresholds(installs) -> None:
    _both_connected(installs)
    _save_settings(installs, TEAM, OWNER, alert_daily_floor="0", alert_customer_hourly="30")
    _reply_to(installs, TEAM, f"points {JUAN} 40", OWNER)
    told = [
        c
        for c in installs.harness.slack.calls_to("chat.postMessage")
        if "Unusual points" in text_of(c.args)
    ]
    assert len(told) == 1 and "has gained 40 points in the last hour, more than 30" in text_of(
        told[0].args
    )
    services = installs.workspaces.services_for(TEAM).service
    assert services.alert_thresholds.customer_hourly == 30


def test_each_workspace_sets_how_its_sales_earn_points(installs) -> None:
    _both_connected(installs)
    refused = _save_settings(installs, TEAM, OWNER, earn_per_amount="ten", currency="XYZ")
    assert set(refused["errors"]) == {"earn_per_amount", "currency"}
    _save_settings(
        installs,
        TEAM,
        OWNER,
        earn_points="2",
        earn_per_amount="25",
        earn_minimum="50",
        currency="usd",
    )
    said = _reply_to(installs, TEAM, f"sale {JUAN} 100", OWNER)
    assert "100.00 USD → 8 points · 5 → *13*" in said
    assert "Sales under 50.00 USD earn no points" in _reply_to(
        installs, TEAM, f"sale {JUAN} 40", OWNER
    )
    second_id = min(installs.harness.sandbox.state.programs[SECOND_PROGRAM_ID].customers)
    second = _reply_to(installs, SECOND_TEAM, f"sale {second_id} 100", SECOND_OWNER)
    assert "100.00 MXN → 10 points" in second  # the environment's rule: 1 per 10 MXN
    _save_settings(installs, TEAM, OWNER, earn_per_amount="")
    assert "Sales do not earn points yet" in _reply_to(installs, TEAM, f"sale {JUAN} 100", OWNER)


def test_each_workspace_reads_national_phone_numbers_as_its_own_country(installs) -> None:
    _both_connected(installs)
    assert "No customer" in _reply_to(installs, TEAM, "customer 999 411 6533", OWNER)
    refused = _save_settings(installs, TEAM, OWNER, region="XX")
    assert "region" in refused["errors"]
    _save_settings(installs, TEAM, OWNER, region="mx")
    assert "Juan Pérez" in _reply_to(installs, TEAM, "customer 999 411 6533", OWNER)
    # The second shop chose nothing: its numbers are read only with their +.
    assert "type it with its country code" in _reply_to(
        installs, SECOND_TEAM, "customer 9994116533", SECOND_OWNER
    )


def _save_settings(installs, team: str, user: str, **values: str) -> dict:
    """Open Settings from the Home tab and save it with `values` typed over: the field
    errors, or the form as it was opened."""
    bot = installs.as_team(team)
    home = installs.home(team, user)
    bot.click_in_home(button(home, "Settings"), user=user)
    view_id, form = bot.opened_view()
    typed = {f"{k}_channel" if k in ("audit", "summary") else k: v for k, v in values.items()}
    answer = bot.submit(view_id, typed, user=user)
    bot.settle()
    body = answer.json() if answer.content else {}
    if body.get("response_action") == "errors":
        return {"errors": body["errors"]}
    return form


def test_revoked_bot_tokens_forget_the_workspace_and_user_tokens_do_not(installs) -> None:
    _both_connected(installs)
    bot = installs.as_team(SECOND_TEAM)
    bot.event({"type": "tokens_revoked", "tokens": {"oauth": ["UX"]}})
    bot.settle()
    assert installs.workspaces.records.get(SECOND_TEAM).connected  # a user's token only
    bot.event({"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}})
    bot.settle()
    workspace = installs.workspaces.records.get(SECOND_TEAM)
    assert not workspace.connected and workspace.uninstalled_at is not None
    assert installs.workspaces.services_for(SECOND_TEAM) is None
    assert (
        installs.workspaces.clients.installations.find_bot(enterprise_id=None, team_id=SECOND_TEAM)
        is None
    )


def test_an_admin_reconnects_with_a_new_key_and_a_clerk_sees_neither_button(installs) -> None:
    _both_connected(installs)
    bot = installs.as_team(SECOND_TEAM)
    clerk_home = installs.home(SECOND_TEAM, SECOND_CLERK)
    labels = [b["text"]["text"] for b in buttons(clerk_home)]
    assert "Settings" not in labels and "Reconnect Smart Passes" not in labels
    installs.harness.sandbox.state.add_program(SECOND_PROGRAM_ID, "rotated-second-key")
    home = installs.home(SECOND_TEAM, SECOND_OWNER)
    bot.click_in_home(button(home, "Reconnect Smart Passes"), user=SECOND_OWNER)
    view_id, _form = bot.opened_view()
    bot.submit(
        view_id,
        {"app_key": "rotated-second-key", "program_id": str(SECOND_PROGRAM_ID)},
        user=SECOND_OWNER,
    )
    bot.settle()
    workspace = installs.workspaces.records.get(SECOND_TEAM)
    assert workspace.key_last4 == "-key" and workspace.connected
    services = installs.workspaces.services_for(SECOND_TEAM)
    assert services.connection.key_last4 == "-key"
    assert "Concha de vainilla" in _reply_to(installs, SECOND_TEAM, "offers", SECOND_OWNER)


def test_forged_connect_and_settings_submissions_change_nothing(installs) -> None:
    _both_connected(installs)
    bot = installs.as_team(TEAM)
    records = installs.workspaces.records
    # A clerk's Settings, as if the form had been opened: refused after the ack, by DM.
    home = installs.home(TEAM, OWNER)
    bot.click_in_home(button(home, "Settings"), user=OWNER)
    settings_id, _form = bot.opened_view()
    before = records.get(TEAM).settings
    bot.submit(settings_id, {"timezone": "Europe/Madrid"}, user=CLERK)
    bot.settle()
    assert records.get(TEAM).settings == before
    dm = installs.harness.slack.calls_to("chat.postMessage")[-1]
    assert "Only managers and workspace admins" in dm.args["text"]
    # A clerk's Connect with another program: the window says why; the key is kept.
    bot.click_in_home(button(installs.home(TEAM, OWNER), "Reconnect Smart Passes"), user=OWNER)
    connect_id, _form = bot.opened_view()
    answer = bot.submit(
        connect_id, {"app_key": SECOND_APP_KEY, "program_id": str(SECOND_PROGRAM_ID)}, user=CLERK
    )
    assert answer.json()["response_action"] == "update"
    bot.settle()
    shown = installs.harness.slack.calls_to("views.update")[-1].args["view"]
    assert "Only" in text_of(json.loads(shown) if isinstance(shown, str) else shown)
    assert records.get(TEAM).program_id == DEMO_PROGRAM_ID


def test_a_connect_the_database_cannot_save_says_so_and_is_not_connected(installs) -> None:
    from sqlalchemy.exc import OperationalError

    installs.install(TEAM, OWNER)
    records = installs.workspaces.records

    def database_gone(*args, **kwargs) -> None:
        raise OperationalError("UPDATE workspaces", {}, Exception("database is gone"))

    records.connect = database_gone
    shown = installs.connect(TEAM, OWNER, DEMO_APP_KEY, DEMO_PROGRAM_ID)
    assert "cannot reach my records" in text_of(shown["view"])
    assert not records.get(TEAM).connected
    assert "not connected" in _reply_to(installs, TEAM, "customers", OWNER)


def test_a_workspace_without_the_app_is_told_so_in_the_bots_language(
    sandbox, sandbox_url, sqlite_url
) -> None:
    """Bolt's own reply when no installation is found, in LOYALTY_LANGUAGE (never its
    stock "reinstall": it may never have been installed)."""
    with installed_bot(sandbox, sandbox_url, sqlite_url, loyalty_language="es") as installs:
        bot = installs.as_team(TEAM)
        refused = bot.requests.command("clientes", user=OWNER, channel="CSHOP")  # no log line
        told = text_of(refused.json()) if refused.content else text_of(bot.reply())
    assert "El bot de lealtad no está instalado en este espacio de trabajo" in told


def test_a_token_the_clock_refreshed_still_serves_requests(
    sandbox, sandbox_url, sqlite_url
) -> None:
    """Slack revokes a refresh token once it is used. When work outside a request (the
    clock's summary) refreshes a token first, requests must be served with the new one,
    not refresh again with the revoked one (which Slack refuses: "not installed")."""
    with installed_bot(sandbox, sandbox_url, sqlite_url) as installs:
        slack = installs.harness.slack
        slack.rotating, slack.expires_in = True, 3600  # within Bolt's 120 minutes
        installs.install(TEAM, OWNER)
        slack.expires_in = 43200  # the refreshed tokens last as Slack's do
        client = installs.workspaces.clients.client(TEAM)  # as the clock asks
        assert client is not None and client.token in slack.tokens
        _connected_and_answered(installs)
        assert len(_refreshes(slack)) == 1


def test_the_serving_sweep_refreshes_tokens_before_a_request_would_wait(
    sandbox, sandbox_url, sqlite_url
) -> None:
    """A token near its end was refreshed before a request's ack (Bolt's way): the
    serving process's minute sweep refreshes it first, so with oauth.v2.access then held
    at Slack forever, the command is still answered."""
    with installed_bot(sandbox, sandbox_url, sqlite_url) as installs:
        slack = installs.harness.slack
        slack.rotating, slack.expires_in = True, 2 * 3600 + 600  # due within the sweep's 3 h
        installs.install(TEAM, OWNER)
        slack.expires_in = 43200
        running = Running(None, installs.harness.store, None, installs.workspaces.work, None)
        running.workspaces = installs.workspaces
        running.reconcile()  # the serving process's sweep, as it runs every minute
        assert len(_refreshes(slack)) == 1
        with _never_answered(slack, "oauth.v2.access"):
            _connected_and_answered(installs)
        assert len(_refreshes(slack)) == 1


def test_a_refresh_slack_refuses_leaves_the_token_serving_until_it_expires(
    sandbox, sandbox_url, sqlite_url, caplog
) -> None:
    """Bolt answers "not installed" when a refresh fails; the token still works for up
    to two hours, so it serves, and the refresh is tried again on the next read."""
    with installed_bot(sandbox, sandbox_url, sqlite_url) as installs:
        slack = installs.harness.slack
        slack.rotating, slack.expires_in = True, 3600  # within Bolt's 120 minutes
        installs.install(TEAM, OWNER)
        first = installs.workspaces.clients.installations.find_bot(enterprise_id=None, team_id=TEAM)
        slack.expires_in = 43200
        slack.failing["oauth.v2.access"] = "internal_error"
        caplog.set_level(logging.WARNING, logger="bot.runtime.slack_tokens")
        connected = installs.connect(TEAM, OWNER, DEMO_APP_KEY, DEMO_PROGRAM_ID)
        assert "Connected to program" in text_of(connected["view"]), connected
        assert "could not be refreshed (internal_error)" in caplog.text
        assert first.bot_token not in caplog.text and first.bot_refresh_token not in caplog.text
        del slack.failing["oauth.v2.access"]
        assert "Juan Pérez" in _reply_to(installs, TEAM, f"customer {JUAN}", OWNER)
        now = installs.workspaces.clients.installations.find_installation(
            enterprise_id=None, team_id=TEAM
        )
        assert now.bot_token != first.bot_token and now.bot_token in slack.tokens
