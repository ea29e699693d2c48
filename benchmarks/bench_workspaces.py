"""Installed in 1,000 workspaces of 1,000 customers each (OAuth mode).

The sandbox serves the 1,000 programs from its own process (each with its own App Key);
the Slack stand-in runs in this process, on loopback HTTP. Measured:

- idle memory: the extra RSS of 1,000 connected workspaces' services (no index loaded);
- the first lookup in a cold workspace (its index loads over HTTP), for 30 workspaces;
- one clock minute when all 1,000 summaries are due, with two clocks (two engines, as two
  processes) ticking at once: how long until the last is posted, and that each workspace
  got exactly one.

    python3 dev.py bench workspaces     (BENCH_WORKSPACES=200 for a quicker run;
    LOYALTY_BENCH_DATABASE_URL=postgresql+psycopg://... for PostgreSQL, emptied first)
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slack_sdk.oauth.installation_store import Installation

from benchmarks._support import check, exit_status, rss_mb, sandbox_process
from bot.domain.settings import Settings
from bot.jobs.summary import EveryWorkspaceClock
from bot.offline.sandbox.data import shop
from bot.offline.slack_standin import SlackStandIn
from bot.runtime.app import installed_workspaces
from bot.runtime.wsgi_server import serving
from bot.store.database import Store
from bot.store.sealed import new_key

WORKSPACES = int(os.environ.get("BENCH_WORKSPACES", "1000"))
CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "1000"))
COLD_LOOKUPS = 30
DUE = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)


def main() -> int:
    print(f"{WORKSPACES:,} workspaces of {CUSTOMERS:,} customers; building the sandbox ...")
    started = time.monotonic()
    extra = ("--shops", str(WORKSPACES), "--shop-customers", str(CUSTOMERS))
    with (
        sandbox_process("empty", 0.0, *extra) as api_url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        print(f"sandbox ready in {time.monotonic() - started:.0f} s")
        slack = SlackStandIn(token="xoxb-unused", team_id="T0000")
        with serving(slack) as slack_url:
            slack.base_url = slack_url  # where its upload URLs point (the summaries' charts)
            settings = Settings(
                _env_file=None,
                slack_client_id="111.222",
                slack_client_secret="standin-client-secret",
                slack_signing_secret="bench",
                slack_api_url=slack_url + "/api/",
                smartpasses_base_url=api_url,
                loyalty_encryption_key=new_key(),
                loyalty_lookup_ttl=3600,
            )
            url = database_url(Path(tmp))
            print(f"store: {url.split(':', 1)[0]}")
            before = rss_mb()
            workspaces = installed_workspaces(settings, Store.from_url(url))
            teams = install_all(workspaces, slack)
            for team in teams:  # each workspace's services, as after its first request
                workspaces.services_for(team)
            idle = rss_mb() - before
            print(f"idle: {idle:.1f} MB extra for {len(teams):,} connected workspaces")

            cold = []
            for team in random.Random(7).sample(teams, COLD_LOOKUPS):
                services = workspaces.services_for(team)
                assert services is not None
                t0 = time.perf_counter()
                found = services.service.find_customers("Garcia")
                cold.append(time.perf_counter() - t0)
                assert found is not None
            print(
                f"first lookup in a cold workspace: median {statistics.median(cold) * 1000:.0f} "
                f"ms, max {max(cold) * 1000:.0f} ms ({COLD_LOOKUPS} workspaces)"
            )
            print(f"indexes in memory: {len(workspaces.loaded())}")

            clocks = [
                EveryWorkspaceClock(installed_workspaces(settings, Store.from_url(url)))
                for _ in range(2)
            ]
            t0 = time.monotonic()
            threads = [threading.Thread(target=c.tick, args=(DUE,)) for c in clocks]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            tick = time.monotonic() - t0
            posts = Counter(c.team for c in slack.calls_to("chat.postMessage"))
            once = sum(1 for team in teams if posts[team] == 1)
            print(
                f"clock: {sum(posts.values()):,} summaries posted in {tick:.1f} s; "
                f"{once:,} of {len(teams):,} workspaces exactly once"
            )

    results = [
        check(f"{WORKSPACES:,} workspaces idle: extra RSS", idle, 256, "MB"),
        check("cold workspace: first lookup, median", statistics.median(cold) * 1000, 1000, "ms"),
        check(f"{WORKSPACES:,} summaries: last posted after", tick, 120, "s"),
        check(
            f"{WORKSPACES:,} summaries: workspaces posted exactly once",
            once,
            len(teams),
            "workspaces",
            at_least=True,
        ),
    ]
    return exit_status(all(results))


def database_url(tmp: Path) -> str:
    """PostgreSQL (as several processes and a clock share in production) when
    LOYALTY_BENCH_DATABASE_URL names one (its schema is emptied first); else SQLite."""
    url = os.environ.get("LOYALTY_BENCH_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp / 'bot.db'}"
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return url


def install_all(workspaces, slack: SlackStandIn) -> list[str]:
    """Every workspace installed (its bot token), connected (its own program and key) and
    with a summary channel, due at 09:00 UTC."""
    installations = workspaces.clients.installations
    teams = []
    for i in range(WORKSPACES):
        team, token = f"T{i:05d}", f"xoxb-bench-{i}"
        program, key = shop(i)
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
        workspaces.records.connect(team, app_key=key, program_id=program, user_id="U1")
        workspaces.records.save_settings(
            team, {"loyalty_summary_channel": f"C{i:05d}", "loyalty_summary_time": "09:00"}
        )
        teams.append(team)
    return teams


if __name__ == "__main__":
    sys.exit(main())
