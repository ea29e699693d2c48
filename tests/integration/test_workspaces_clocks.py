"""Two clocks posting every workspace's summary: each exactly once."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_sdk.oauth.installation_store import Installation

from bot.jobs.summary import EveryWorkspaceClock
from bot.offline.sandbox import (
    InProcessTransport,
    SandboxApp,
    build_state,
)
from bot.offline.slack_standin import SlackStandIn
from bot.runtime.app import installed_workspaces
from bot.runtime.wsgi_server import serving
from bot.store.database import Store
from tests.faults import read_only
from tests.harness import wait_until
from tests.unit.test_workspaces import settings, shops


def _install(
    clock: EveryWorkspaceClock, slack: SlackStandIn, teams: list[Any], zones: list[str]
) -> None:
    """Each shop installed and connected, its summary in channel C<i>, in the zones in turn."""
    records = clock.workspaces.records
    installations = clock.workspaces.clients.installations
    for i, (team, program, key) in enumerate(teams):
        token = f"xoxb-{team}"
        slack.tokens[token] = team
        installations.save(
            Installation(
                app_id="A1",
                team_id=team,
                user_id="U1",
                bot_token=token,
                bot_id="B1",
                bot_user_id="UBOT",
                bot_scopes="chat:write",
            )
        )
        records.connect(team, app_key=key, program_id=program, user_id="U1")
        zone = zones[i % len(zones)]
        records.save_settings(team, {"loyalty_summary_channel": f"C{i}", "loyalty_timezone": zone})


def test_two_clocks_post_each_workspaces_summary_exactly_once(store_url: str) -> None:
    sandbox = SandboxApp(build_state("empty"))
    teams = shops(sandbox, 6, 20)
    slack = SlackStandIn(token="xoxb-first", team_id=teams[0][0])
    with serving(slack) as slack_url:
        config = settings(slack_url + "/api/")
        clocks = [  # two processes' clocks, each with its own engine
            EveryWorkspaceClock(
                installed_workspaces(
                    config, Store.from_url(store_url), transport=InProcessTransport(sandbox)
                )
            )
            for _ in range(2)
        ]
        _install(clocks[0], slack, teams, ["UTC", "America/Mexico_City"])
        at_nine_utc = dt.datetime(2026, 11, 27, 9, 0, 30, tzinfo=dt.UTC)
        results: list[Any] = []
        threads = [
            threading.Thread(target=lambda c=c: results.extend(c.tick(at_nine_utc))) for c in clocks
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        posts = slack.calls_to("chat.postMessage")
        assert sorted(c.args["channel"] for c in posts) == ["C0", "C2", "C4"]  # UTC shops
        assert {c.team for c in posts} == {teams[0][0], teams[2][0], teams[4][0]}
        at_nine_mexico = dt.datetime(2026, 11, 27, 15, 0, 30, tzinfo=dt.UTC)
        for clock in clocks:
            clock.tick(at_nine_mexico)
        channels = sorted(c.args["channel"] for c in slack.calls_to("chat.postMessage"))
        assert channels == ["C0", "C1", "C2", "C3", "C4", "C5"]  # each exactly once


def test_summaries_posted_but_not_recorded_are_recorded_later_never_posted_again(
    sqlite_url: str, monkeypatch
) -> None:
    from bot.jobs import summary as job

    monkeypatch.setattr(job, "RECORD_WAITS_SECONDS", ())  # its attempts, without the waits
    sandbox = SandboxApp(build_state("empty"))
    teams = shops(sandbox, 2, 5)
    slack = SlackStandIn(token="xoxb-first", team_id=teams[0][0])
    store = Store.from_url(sqlite_url)
    with serving(slack) as slack_url:
        clock = EveryWorkspaceClock(
            installed_workspaces(
                settings(slack_url + "/api/"), store, transport=InProcessTransport(sandbox)
            )
        )
        _install(clock, slack, teams, ["UTC"])
        at_nine = dt.datetime(2026, 11, 27, 9, 0, 30, tzinfo=dt.UTC)
        day = at_nine.date().isoformat()
        claims = [(store.for_workspace(team), f"C{i}") for i, (team, *_) in enumerate(teams)]
        slack.holds["chat.postMessage"] = posting = threading.Event()
        with ThreadPoolExecutor(1) as pool:
            ticked = pool.submit(clock.tick, at_nine)
            wait_until(lambda: all(s.summary_post(day, c) for s, c in claims), what="both claims")
            with read_only(store.engine):  # the database stops taking writes mid-post
                posting.set()
                assert ticked.result(timeout=30) == []
                assert clock.tick(at_nine + dt.timedelta(minutes=1)) == []
        assert len(slack.messages) == 2
        later = clock.tick(at_nine + dt.timedelta(minutes=15))  # past takeover and retry
        assert sorted(p.ts for p in later) == sorted(m.ts for m in slack.messages)
        assert all(s.summary_post(day, c)["message_ts"] for s, c in claims)
        assert clock.tick(at_nine + dt.timedelta(minutes=16)) == []
        assert len(slack.calls_to("chat.postMessage")) == 2
