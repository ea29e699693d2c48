"""Ack latency of /loyalty with a slow Loyalty API.

Run by hand: `.venv/bin/python benchmarks/bench_ack.py [--requests 200] [--concurrency 20]`.
200 signed slash commands, 20 at a time, against the bot while the sandbox (in its own
process) answers every call after 2 s; the same requests to a bare Bolt app that only
acks are the floor. Target (issue 3): p99 < 100 ms and within 2x of the floor.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from slack_bolt import App
from slack_sdk import WebClient

from benchmarks._support import check, percentile, sandbox_process
from bot.offline.slack_requests import SlackRequests
from bot.offline.slack_standin import SlackStandIn
from bot.runtime.app import create_app, web_app
from bot.runtime.settings import Settings
from bot.runtime.wsgi_server import serving
from bot.smartpasses.client import LoyaltyClient
from bot.store.database import Store

SECRET, TOKEN, MANAGER = "bench-secret", "xoxb-bench", "UBENCH"


def fire(url: str, slack: SlackStandIn, n: int, concurrency: int) -> list[float]:
    texts = itertools.cycle(["customer 1870", "points 1870 1 bench", "customers perez", "offers"])
    jobs = [next(texts) for _ in range(n)]
    http = httpx.Client(timeout=30, limits=httpx.Limits(max_connections=concurrency))
    requests = SlackRequests(url, SECRET, slack, http=http)

    def one(text: str) -> float:
        start = time.perf_counter()
        response = requests.command(text, user=MANAGER, channel="C1")
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, response.status_code
        return elapsed

    with http, ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(one, jobs))


def bare_app(slack_url: str) -> App:
    client = WebClient(token=TOKEN, base_url=slack_url + "/api/")
    app = App(signing_secret=SECRET, client=client, token_verification_enabled=False)

    @app.command("/loyalty")
    def ack_only(ack) -> None:
        ack()

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--latency", type=float, default=2.0)
    args = parser.parse_args()

    slack = SlackStandIn(token=TOKEN)
    with (
        sandbox_process("demo", latency=args.latency) as sandbox_url,
        serving(slack) as slack_url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        slack.base_url = slack_url
        settings = Settings(
            _env_file=None,
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=slack_url + "/api/",
            smartpasses_app_key="sandbox-app-key",
            smartpasses_program_id=4886905521176576,
            smartpasses_base_url=sandbox_url,
            loyalty_managers=[MANAGER],
            database_url=f"sqlite:///{tmp}/bench.db",
        )
        app = create_app(
            settings,
            client=WebClient(token=TOKEN, base_url=slack_url + "/api/"),
            loyalty=LoyaltyClient.from_settings(settings),
            store=Store.from_url(settings.database_url),
        )
        with serving(web_app(bare_app(slack_url), SECRET)) as floor_url:
            fire(floor_url, slack, 20, args.concurrency)  # warm up
            floor = fire(floor_url, slack, args.requests, args.concurrency)
        with serving(web_app(app, SECRET)) as bot_url:
            bot = fire(bot_url, slack, args.requests, args.concurrency)
            deadline = time.monotonic() + 120
            while (
                len(slack.calls_to("response_url")) < args.requests and time.monotonic() < deadline
            ):
                time.sleep(0.2)
            answered = len(slack.calls_to("response_url"))

    print(
        f"{args.requests} slash commands, {args.concurrency} at a time, "
        f"Loyalty API answering after {args.latency:.1f} s"
    )
    print(
        f"bare Bolt app (floor): p50 {percentile(floor, 50):.1f} ms, "
        f"p99 {percentile(floor, 99):.1f} ms"
    )
    print(
        f"loyalty bot:           p50 {percentile(bot, 50):.1f} ms, "
        f"p99 {percentile(bot, 99):.1f} ms "
        f"({percentile(bot, 99) / percentile(floor, 99):.2f}x the floor's p99; "
        "target < 100 ms and <= 2x)"
    )
    print(f"replies that then reached Slack: {answered}/{args.requests}")
    bot_p99, floor_p99 = percentile(bot, 99), percentile(floor, 99)
    check("ack p99 (200 commands, API 2 s)", bot_p99, 100, "ms")
    check("ack p99 over the bare Bolt app's", bot_p99 / floor_p99, 2, "x")
    check("replies that reached Slack", answered, args.requests, "replies", at_least=True)


if __name__ == "__main__":
    main()
