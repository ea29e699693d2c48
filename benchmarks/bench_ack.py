"""Ack latency of /loyalty with a slow Loyalty API, while the bot is working hard.

Run by hand: `.venv/bin/python benchmarks/bench_ack.py [--customers 100000]
[--latency 2] [--ttl 2]`.

Five processes: this client, the Slack stand-in (`benchmarks/slack_process.py`), the
sandbox (`--customers` generated customers, every answer after `--latency` s), `loyalty-bot
serve`, and a bare Bolt app that only acks (`benchmarks/bare_bolt.py`, served the same
way, as Bolt runs by default: the floor). The apps are warmed up first. They run on one
CPU (the bot's index builder with it), everything else on the others: Slack, Smart Passes
and the people sending commands are not on the bot's host. The bot runs with
LOYALTY_LOOKUP_TTL=`--ttl`, so its index is rebuilt in the background over and over while
it is measured, and one command in ten is `/loyalty summary` (built from that index).

Each app gets bursts of 20, 50 and 200 commands sent at once (1,000 commands per size, the
bot's work let finish after each 200) and a sustained 20 commands a second for 50 s; each ack (Slack's HTTP 200) is timed. That is
one round, every p99 in it from 1,000 acks; there are ROUNDS, the apps taking turns, and
each figure is the median of the rounds'; the worst round's ratio is printed beside it.
Then every reply the bot sent is checked: a lookup names its customer, an add shows it, a
summary counts the customers; and every balance is exact. Targets (issues 3 and 16, item
7): p99 under 100 ms, and within 2x of the bare app's p99, for each burst size and the
sustained rate. (Acks while the work after them overlaps the next arrivals:
bench_waves.)
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from statistics import median
from urllib.parse import parse_qs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from benchmarks._support import (
    RemoteSlack,
    balances,
    bot_env,
    check,
    cpu_split,
    percentile,
    pin,
    sandbox_process,
    script_process,
    sender,
    serve,
    slack_process,
)
from benchmarks.bench_changes import database
from bot.offline.slack_requests import SlackRequests

SECRET, TOKEN, MANAGER = "bench-secret", "xoxb-bench", "UBENCH"
BURSTS = (20, 50, 200)
PER_SIZE = 1000  # acks per burst size and round: a p99 from fewer is one or two requests
SUSTAINED_RATE, SUSTAINED_SECONDS = 20, 50
# Commands sent before the bot's work is let finish: within its work pool's room (256
# threads, 256 queued), past which it would rightly say it is busy.
SETTLE_EVERY = 200
ROUNDS = 3
STAND_INS_NICE = 19
BARE, BOT = "bare Bolt", "bot"


def bare_bolt(slack_url: str, cpus: set[int]) -> AbstractContextManager[str]:
    """The floor: a Bolt app that only acks, served as `serve` is."""
    return script_process(
        "bare_bolt.py",
        *("--slack-api-url", slack_url + "/api/"),
        ready="/healthz",
        cpus=cpus,
        as_deployed=True,
    )


class Client:
    """Signed commands to one app from `senders` threads, each with a connection of its
    own (kept between bursts, as the shared pool kept them); each ack timed, each
    command's text kept by its response URL (to check the reply). Not one shared pool:
    in httpcore's sync pool one thread's clean-up can close a connection another thread
    has just sent a request on (encode/httpcore#1110: the reply read on a closed socket,
    EBADF, seen in bench_waves' overlapping waves)."""

    def __init__(self, url: str, slack: RemoteSlack, senders: int = 250) -> None:
        self.url, self.standin = url, slack.standin
        self.requests = SlackRequests(url, SECRET, slack.standin)  # bodies; never posts
        self.pool = ThreadPoolExecutor(senders, thread_name_prefix="sender")
        self.sent: dict[str, str] = {}
        self.lock = threading.Lock()
        self._connections: list[SlackRequests] = []
        self._thread = threading.local()

    def _connection(self) -> SlackRequests:
        """This sending thread's own connection to the app."""
        mine: SlackRequests | None = getattr(self._thread, "connection", None)
        if mine is None:
            mine = SlackRequests(self.url, SECRET, self.standin, http=sender(1, timeout=30))
            self._thread.connection = mine
            with self.lock:
                self._connections.append(mine)
        return mine

    def close(self) -> None:
        self.pool.shutdown()
        for each in [self.requests, *self._connections]:
            each.http.close()

    def one(self, text: str) -> float:
        body = self.requests.command_body(text, user=MANAGER, channel="C1")
        with self.lock:
            self.sent[parse_qs(body)["response_url"][0]] = text
        post = self._connection().signed_post
        start = time.perf_counter()
        response = post(body)
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, response.status_code
        return elapsed

    def burst(self, texts: list[str]) -> list[float]:
        return list(self.pool.map(self.one, texts))

    def steady(self, texts: list[str], rate: float) -> list[float]:
        start, futures = time.monotonic(), []
        for i, text in enumerate(texts):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # the client's pace
            futures.append(self.pool.submit(self.one, text))
        return [f.result() for f in futures]


ROUND_COMMANDS = len(BURSTS) * PER_SIZE + SUSTAINED_RATE * SUSTAINED_SECONDS


def commands(customers: list[int], count: int, offset: int) -> list[str]:
    """Lookups and adds of different customers, and one summary in ten."""
    texts = []
    for i in range(count):
        cid = customers[(offset + i) % len(customers)]
        texts.append(
            "summary" if i % 10 == 9 else f"points {cid} 1 bench" if i % 2 else f"customer {cid}"
        )
    return texts


def measure(
    client: Client, customers: list[int], start: int, settle: Callable[[], None]
) -> dict[str, list[float]]:
    """Each burst size, then the sustained rate; `settle()` after each SETTLE_EVERY
    commands and each phase (the bot's replies have all come: its work pool, whose queue
    is bounded, is idle again; the other app's turn starts with it idle)."""
    results: dict[str, list[float]] = {}
    offset = start
    for size in BURSTS:
        samples: list[float] = []
        for n in range(PER_SIZE // size):
            samples += client.burst(commands(customers, size, offset))
            offset += size
            if (n + 1) * size % SETTLE_EVERY == 0:
                settle()
        results[f"bursts of {size}"] = samples
        settle()
    count = SUSTAINED_RATE * SUSTAINED_SECONDS
    results[f"{SUSTAINED_RATE}/s for {SUSTAINED_SECONDS} s"] = client.steady(
        commands(customers, count, offset), SUSTAINED_RATE
    )
    settle()  # the other app's turn starts with this one's work done
    return results


def replied(slack: RemoteSlack, client: Client) -> None:
    """Wait until every command sent so far has its reply (only the bot replies)."""
    slack.wait("response_url", count=len(client.sent), timeout=300)


def check_replies(slack: RemoteSlack, client: Client, api_url: str, before: dict) -> None:
    replied(slack, client)
    added: Counter[int] = Counter()
    for call in slack.calls("response_url"):
        text = client.sent.get(call["args"].get("_url", ""))
        if text is None:
            continue
        shown = str(call["args"].get("text", ""))
        if text.startswith("points"):
            assert "→" in shown, f"{text}: {shown[:120]}"
            added[int(text.split()[1])] += 1
        elif text.startswith("customer "):
            assert "point" in shown and "No customer" not in shown, f"{text}: {shown[:120]}"
        else:
            assert "summary" in shown.lower(), f"{text}: {shown[:120]}"
    after = balances(api_url)
    wrong = [c for c, n in added.items() if after[c] != before[c] + n]
    assert not wrong, f"{len(wrong)} balances are wrong"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--latency", type=float, default=2.0)
    parser.add_argument("--ttl", type=float, default=2.0, help="the bot's LOYALTY_LOOKUP_TTL")
    args = parser.parse_args()
    app_cpus, rest = cpu_split()
    pin(os.getpid(), rest)
    with ExitStack() as stack:
        # The stand-ins for Slack and Smart Passes share the client's CPU, behind it: the
        # bot's replies and list downloads (not the bare app's) must not delay the client's
        # timing of the next acks.
        api_url = stack.enter_context(
            sandbox_process(str(args.customers), args.latency, cpus=rest, nice=STAND_INS_NICE)
        )
        url = stack.enter_context(database(None))
        slack = stack.enter_context(slack_process(TOKEN, MANAGER, cpus=rest, nice=STAND_INS_NICE))
        slack_url = slack.url
        env = bot_env(slack_url, api_url, url, LOYALTY_LOOKUP_TTL=str(args.ttl))
        bot_url = stack.enter_context(serve(env, cpus=app_cpus))
        floor_url = stack.enter_context(bare_bolt(slack_url, app_cpus))
        customers = sorted(balances(api_url))
        before = balances(api_url)
        apps = {BARE: Client(floor_url, slack), BOT: Client(bot_url, slack)}
        for app in apps.values():
            stack.callback(app.close)
        bot = apps[BOT]
        for client in apps.values():  # warm-up: connections, threads, the bot's index
            client.burst(commands(customers, 50, 0))
        replied(slack, bot)
        rounds: list[dict[str, dict[str, list[float]]]] = []  # each app's acks by row
        for turn in range(ROUNDS):
            start = 1000 + turn * ROUND_COMMANDS
            rounds.append(
                {
                    name: measure(
                        client,
                        customers,
                        start,
                        (lambda: replied(slack, bot)) if client is bot else (lambda: None),
                    )
                    for name, client in apps.items()
                }
            )
        check_replies(slack, bot, api_url, before)

    print(
        f"\n{args.customers:,} customers, every Loyalty API answer after {args.latency:g} s; "
        f"the bot's index rebuilt every {args.ttl * 0.8:g} s in the background; every reply "
        "and balance checked.\n"
    )
    print(
        f"Each figure the median of {ROUNDS} rounds (the apps taking turns); the worst round's "
        f"ratio in brackets; every p99 from {PER_SIZE:,} acks per round.\n"
    )
    print("| ack (HTTP 200) | bare Bolt p50 / p99 | bot p50 / p99 | bot p99 / bare p99 |")
    print("|---|---|---|---|")
    for row in rounds[0][BOT]:

        def typical(app: str, pct: float, row: str = row) -> float:
            return median(percentile(r[app][row], pct) for r in rounds)

        def ratios(app: str, row: str = row) -> tuple[float, float]:
            worst = max(percentile(r[BOT][row], 99) / percentile(r[app][row], 99) for r in rounds)
            return typical(BOT, 99) / typical(app, 99), worst

        over_bare = ratios(BARE)
        print(
            f"| {row} | "
            + " | ".join(f"{typical(app, 50):.1f} / {typical(app, 99):.1f} ms" for app in apps)
            + f" | {over_bare[0]:.2f}x ({over_bare[1]:.2f}x) |"
        )
        check(f"ack p99, {row}, index rebuilding", typical(BOT, 99), 100, "ms")
        check(f"ack p99 over the bare Bolt app's, {row}", over_bare[0], 2, "x")


if __name__ == "__main__":
    main()
