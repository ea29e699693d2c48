"""Installed in any workspace, in-process: each workspace's records kept apart, App Keys
sealed and re-sealed, services built lazily and rebuilt when another process changes the
settings, customer indexes kept within the memory budget, and the clock posting each
workspace's summary exactly once with two clocks at the same moment."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from bot.domain.errors import ConfigError
from bot.domain.settings import Settings
from bot.offline.sandbox import (
    DEMO_APP_KEY,
    DEMO_PROGRAM_ID,
    InProcessTransport,
    SandboxApp,
    build_state,
)
from bot.offline.sandbox.data import add_shops, shop
from bot.runtime.app import installed_workspaces
from bot.runtime.tenants import RECHECK_SECONDS, Workspaces
from bot.slack.workspace_views import Connection, settings_form
from bot.store.database import Store
from bot.store.sealed import InvalidToken, KeyBox, new_key
from bot.store.workspaces import WorkspaceRecords
from handlers.workspace_settings import choices_of, read_settings_form
from tests.clock import Clock


def settings(slack_url: str = "http://127.0.0.1:9/api/", **values: Any) -> Settings:
    return Settings(
        _env_file=None,
        slack_client_id="111.222",
        slack_client_secret="standin-client-secret",
        slack_signing_secret="s",
        slack_api_url=slack_url,
        loyalty_encryption_key=new_key(),
        **values,
    )


def workspaces_over(sandbox: SandboxApp, url: str, **values: Any) -> Workspaces:
    config = settings(**values)
    return installed_workspaces(config, Store.from_url(url), transport=InProcessTransport(sandbox))


def shops(sandbox: SandboxApp, count: int, customers: int) -> list[tuple[str, int, str]]:
    """`count` programs of `customers` each, with their own keys: (team, program, key)."""
    add_shops(sandbox.state, count, customers)
    return [(f"T{i:04d}", *shop(i)) for i in range(count)]


def test_each_workspace_has_its_own_records(store_url: str) -> None:
    store = Store.from_url(store_url)
    first, second = store.for_workspace("T1"), store.for_workspace("T2")
    assert first.claim_once("command:1") and second.claim_once("command:1")
    assert not first.claim_once("command:1")
    token = first.add_confirmation(kind="x", target_id=1, target_name="n", requested_by="U1")
    assert first.confirmation(token) is not None and second.confirmation(token) is None
    assert first.claim_summary_post("2026-11-27", "C1") and second.claim_summary_post(
        "2026-11-27", "C1"
    )
    assert first.reserve_clerk_points("U1", "2026-11-27", 20, 20)
    assert second.reserve_clerk_points("U1", "2026-11-27", 20, 20)
    entry = first.record(user_id="U1", action="points.add", outcome="ok", team_id="forged")
    assert first.entry(entry) is not None and first.entry(entry).team_id == "T1"
    assert second.entry(entry) is None and second.entries() == []
    assert not second.claim_undo(entry)


def test_a_change_is_completed_and_counted_in_its_own_workspace_only(store_url: str) -> None:
    store = Store.from_url(store_url)
    first, second = store.for_workspace("T1"), store.for_workspace("T2")
    hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    intent = dict(user_id="U1", action="points.add", target_type="customer", target_id=5)
    mine = first.record(outcome="pending", before=10, after=30, fence="customer:5", **intent)
    assert not second.complete(mine, "failed")  # another workspace's entry: untouched
    assert first.complete(mine, "ok", detail="added")
    entry = first.entry(mine)
    assert entry is not None and (entry.outcome, entry.detail, entry.fence) == ("ok", "added", None)
    assert not first.complete(mine, "failed")  # completed once
    second.record(outcome="ok", before=0, after=7, **intent)
    first.record(outcome="failed", before=30, after=99, **intent)  # never counted
    for scoped, points in ((first, 20), (second, 7), (store, 27)):  # store: every workspace
        assert scoped.points_given_since(hour_ago, user_id="U1") == points
        assert scoped.points_given_since(hour_ago, customer_id=5) == points
        assert scoped.points_given_both("U1", hour_ago, 5, hour_ago) == (points, points)
    assert first.points_given_since(hour_ago, user_id="U2") == 0
    assert first.points_given_since(hour_ago, customer_id=6) == 0
    assert first.points_given_both("U2", hour_ago, 5, hour_ago) == (0, 20)
    assert first.points_given_both("U1", hour_ago, 6, hour_ago) == (20, 0)
    now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)  # each sum from its own time
    assert first.points_given_both("U1", now, 5, hour_ago) == (0, 20)


def test_app_keys_are_sealed_and_resealed_with_a_new_key(sqlite_url: str) -> None:
    old, new = new_key(), new_key()
    store = Store.from_url(sqlite_url)
    WorkspaceRecords(store.engine, KeyBox(old)).connect(
        "T1", app_key="secret-key-1234", program_id=7, user_id="U1"
    )
    with pytest.raises(InvalidToken):
        WorkspaceRecords(store.engine, KeyBox(new)).get("T1").app_key(KeyBox(new))
    both = WorkspaceRecords(store.engine, KeyBox(f"{new},{old}"))
    assert both.reseal_all() == 1
    only_new = KeyBox(new)
    found = WorkspaceRecords(store.engine, only_new).get("T1")
    assert found.app_key(only_new).get_secret_value() == "secret-key-1234"
    assert found.key_last4 == "1234" and "secret-key" not in repr(found)
    with pytest.raises(ConfigError):
        KeyBox("not-a-fernet-key")


def test_services_are_built_on_first_use_and_rebuilt_after_a_change_elsewhere(
    sqlite_url: str,
) -> None:
    sandbox = SandboxApp(build_state("demo"))
    workspaces = workspaces_over(sandbox, sqlite_url)
    clock = Clock(0.0)
    workspaces._clock = clock
    assert workspaces.services_for("T1") is None  # not connected
    workspaces.records.connect("T1", app_key=DEMO_APP_KEY, program_id=DEMO_PROGRAM_ID, user_id="U1")
    services = workspaces.services_for("T1")
    assert services is not None and services.settings.loyalty_language == "en"
    assert services.service.find_customers("1870").found.first_name == "Juan"
    # Another process saves the settings: seen after the recheck interval.
    other = WorkspaceRecords(workspaces.store.engine, workspaces.records.box)
    other.save_settings("T1", {"loyalty_language": "es", "loyalty_summary_time": "07:30"})
    assert workspaces.services_for("T1") is services
    clock.now += RECHECK_SECONDS + 1
    rebuilt = workspaces.services_for("T1")
    assert rebuilt is not services and rebuilt.settings.loyalty_language == "es"
    assert rebuilt.settings.loyalty_summary_time == dt.time(7, 30)
    other.uninstalled("T1")
    clock.now += RECHECK_SECONDS + 1
    assert workspaces.services_for("T1") is None


def test_indexes_stay_within_the_budget_least_recently_used_first(sqlite_url: str) -> None:
    sandbox = SandboxApp(build_state("empty"))
    workspaces = workspaces_over(sandbox, sqlite_url, loyalty_index_budget_mb=1)
    teams = shops(sandbox, 3, 1000)  # 1,000 customers: ~0.6 MB each, two do not fit in 1 MB
    for team, program, key in teams:
        workspaces.records.connect(team, app_key=key, program_id=program, user_id="U1")
    names = [t for t, _, _ in teams]
    for team in names:
        workspaces.services_for(team).service.index.all()
    assert workspaces.loaded() == [names[2]]
    assert workspaces.index_bytes() <= 1024 * 1024
    workspaces.services_for(names[0]).service.index.all()  # used again: loaded again
    assert workspaces.loaded() == [names[0]]


def test_the_settings_form_is_checked() -> None:
    chosen, problems = read_settings_form(
        {
            "managers": ["U1", "U2"],
            "summary_channel": "C1",
            "summary_time": "08:15",
            "timezone": "America/Mexico_City",
            "language": "es",
            "clerk_max_points": "20",
            "clerk_daily_points": "200",
        }
    )
    assert problems == {}
    assert chosen["loyalty_managers"] == ["U1", "U2"] and chosen["loyalty_summary_time"] == "08:15"
    assert chosen["loyalty_audit_channel"] is None and chosen["loyalty_clerk_daily_points"] == 200
    assert (chosen["loyalty_alert_factor"], chosen["loyalty_alert_daily_floor"]) == (3.0, 0)
    _, problems = read_settings_form(
        {
            "summary_time": "",
            "timezone": "Nowhere/Land",
            "clerk_max_points": "-3",
            "alert_factor": "0.5",
            "alert_customer_hourly": "lots",
        }
    )
    assert set(problems) == {
        "summary_time",
        "timezone",
        "clerk_max_points",
        "alert_factor",
        "alert_customer_hourly",
    }
    chosen, problems = read_settings_form(
        {
            "summary_time": "09:00",
            "timezone": "UTC",
            "alert_factor": "2.5",
            "alert_daily_floor": "80",
        }
    )
    assert problems == {} and chosen["loyalty_alert_factor"] == 2.5
    assert chosen["loyalty_alert_daily_floor"] == 80
    # A city is its zone; a folder of zones (`America`) is a mistake, told beside its field
    chosen, problems = read_settings_form({"summary_time": "09:00", "timezone": "Madrid"})
    assert problems == {} and chosen["loyalty_timezone"] == "Europe/Madrid"
    _, problems = read_settings_form({"summary_time": "09:00", "timezone": "America"})
    assert problems == {"timezone": "Not a time zone I know: write it like America/Mexico_City."}


def test_the_key_ending_is_escaped_where_it_is_shown() -> None:
    form = json.dumps(settings_form(choices_of(settings()), Connection(12, "<!ch")))
    assert "&lt;!ch" in form and "<!ch" not in form


def test_slack_tokens_are_sealed_at_rest_opened_for_use_and_resealed(sqlite_url: str) -> None:
    """A token stored in the clear (before sealing) is sealed at the first start; the
    store opens it for Bolt; a new key first and `seal_rows(reseal=True)` re-seal it."""
    import datetime as dt

    import sqlalchemy as sa
    from slack_sdk.oauth.installation_store.models.installation import Installation

    from bot.store.installations import (
        SealedInstallationStore,
        seal_rows,
        slack_bots,
        slack_installations,
    )

    old, new = new_key(), new_key()
    store = Store.from_url(sqlite_url)
    plain = SealedInstallationStore.__mro__[1](client_id="C1", engine=store.engine)
    plain.save(  # as slack_sdk's own store wrote it, before sealing
        Installation(
            app_id="A1",
            team_id="T1",
            user_id="U1",
            bot_token="xoxb-clear-1",
            bot_refresh_token="xoxe-1-" + "r" * 150,  # long: sealed, it needs the text column
            bot_id="B1",
            bot_user_id="UB1",
            installed_at=dt.datetime.now(dt.UTC).timestamp(),
        )
    )
    with store.engine.begin() as conn:
        assert seal_rows(conn, KeyBox(old)) == 4  # bot and refresh token, in both tables
        assert seal_rows(conn, KeyBox(old)) == 0  # once
        stored = [
            *conn.execute(sa.select(slack_bots.c.bot_token, slack_bots.c.bot_refresh_token)),
            *conn.execute(sa.select(slack_installations.c.bot_token)),
        ]
    assert all(v.startswith("gAAAAA") for row in stored for v in row)
    sealed = SealedInstallationStore("C1", store.engine, KeyBox(old))
    bot = sealed.find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None and bot.bot_token == "xoxb-clear-1"
    found = sealed.find_installation(enterprise_id=None, team_id="T1")
    assert found is not None and found.bot_refresh_token == "xoxe-1-" + "r" * 150
    with store.engine.begin() as conn:
        assert seal_rows(conn, KeyBox(f"{new},{old}"), reseal=True) == 4
    only_new = SealedInstallationStore("C1", store.engine, KeyBox(new))
    assert only_new.find_bot(enterprise_id=None, team_id="T1").bot_token == "xoxb-clear-1"
    assert (
        SealedInstallationStore("C1", store.engine, KeyBox(old)).find_bot(
            enterprise_id=None, team_id="T1"
        )
        is None
    )  # the old key alone no longer opens it (and says so in the log)
