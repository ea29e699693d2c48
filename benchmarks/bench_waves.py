"""Acks while the work overlaps: waves of commands arriving before the last wave's work is done.

Run by hand: `.venv/bin/python benchmarks/bench_waves.py [--customers 10000]
[--latency 0.2] [--wave 50] [--every 0.3] [--waves 20] [--rounds 3]`.

The bot and a bare Bolt app that only acks (`benchmarks/bare_bolt.py`) are each served the
same way, as the Procfile serves the bot: gunicorn with its workers and threads. They run
on one CPU; the sandbox (`--customers` generated customers, every answer after `--latency`
s), the Slack stand-in and this client on the others. A wave of `--wave` commands (lookups
and adds of different customers, one summary in ten) is sent at once every `--every` s,
whether or not the last wave's work is done: with the API at 0.2 s, each wave's answers,
database writes and replies run while the next wave arrives. Each ack (Slack's HTTP 200)
is timed.

A round is `--waves` waves (1,000 commands by default) to each app in turn, the bot's
replies all in before the bare app's turn; each figure is the median of `--rounds` rounds'
p99, each round's printed beside it. Every reply the bot sent is then checked (a lookup
names its customer, an add shows it, a summary counts), and every balance. Target (issue
28, item 2): the bot's ack p99 at most 2x the bare app's.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._support import (
    balances,
    bot_env,
    check,
    cpu_split,
    exit_status,
    percentile,
    pin,
    sandbox_process,
    serve,
    slack_process,
)
from benchmarks.bench_ack import MANAGER, TOKEN, Client, check_replies, commands, replied
from benchmarks.bench_changes import database

BARE_BOLT_WSGI = "'benchmarks.bare_bolt:create()'"
RATIO_TARGET = 2.0
SENDERS_PER_WAVE = 8  # threads sending, per command in a wave (waves overlap)


def waves(client: Client, texts: list[str], wave: int, every: float) -> list[float]:
    """`texts` in waves of `wave`, one wave every `every` s: each ack's milliseconds."""
    futures = []
    start = time.monotonic()
    for n, first in enumerate(range(0, len(texts), wave)):
        delay = start + n * every - time.monotonic()
        if delay > 0:
            time.sleep(delay)  # the client's pace, not a wait for the app
        futures += [client.pool.submit(client.one, text) for text in texts[first : first + wave]]
    return [f.result() for f in futures]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--wave", type=int, default=50)
    parser.add_argument("--every", type=float, default=0.3)
    parser.add_argument("--waves", type=int, default=20, help="per round and app")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    app_cpus, rest = cpu_split()
    pin(os.getpid(), rest)
    with ExitStack() as stack:
        api_url = stack.enter_context(sandbox_process(str(args.customers), args.latency, cpus=rest))
        url = stack.enter_context(database(None))
        slack = stack.enter_context(slack_process(TOKEN, MANAGER, cpus=rest))
        env = bot_env(slack.url, api_url, url)
        bot_url = stack.enter_context(serve(env, app_cpus, server="gunicorn"))
        bare_url = stack.enter_context(serve(env, app_cpus, server="gunicorn", app=BARE_BOLT_WSGI))
        customers = sorted(balances(api_url))
        before = balances(api_url)
        senders = args.wave * SENDERS_PER_WAVE
        bot, bare = Client(bot_url, slack, senders), Client(bare_url, slack, senders)
        stack.callback(bot.close)
        stack.callback(bare.close)
        for client in (bare, bot):  # warm-up: connections, threads, the bot's index
            waves(client, commands(customers, 4 * args.wave, 0), args.wave, args.every)
        replied(slack, bot)
        per_round = args.wave * args.waves
        p99s: dict[str, list[float]] = {"bare": [], "bot": []}
        p50s: dict[str, list[float]] = {"bare": [], "bot": []}
        for turn in range(args.rounds):
            texts = commands(customers, per_round, 1000 + turn * per_round)
            for name, client in (("bare", bare), ("bot", bot)):
                acks = waves(client, texts, args.wave, args.every)
                p99s[name].append(percentile(acks, 99))
                p50s[name].append(percentile(acks, 50))
                replied(slack, bot)  # the next turn starts with the bot's work done
        check_replies(slack, bot, api_url, before)

    ratio = median(p99s["bot"]) / median(p99s["bare"])
    print(
        f"\nWaves of {args.wave} every {args.every:g} s, {per_round:,} commands per round and "
        f"app, API {args.latency:g} s, {args.customers:,} customers; both apps under "
        "gunicorn as the Procfile runs it; every reply and balance checked.\n"
    )
    print("| ack (HTTP 200) | each round's p50 / p99 (ms) | median p99 |")
    print("|---|---|---|")
    for name in ("bare", "bot"):
        rounds = ", ".join(
            f"{a:.1f} / {b:.1f}" for a, b in zip(p50s[name], p99s[name], strict=True)
        )
        print(f"| {name} | {rounds} | {median(p99s[name]):.1f} ms |")
    print(f"\nbot p99 over bare p99: {ratio:.2f}x (target < {RATIO_TARGET:g}x)")
    where = f"waves of {args.wave} every {args.every:g} s, API {args.latency:g} s"
    passed = check(f"ack p99 over the bare Bolt app's, {where}", ratio, RATIO_TARGET, "x")
    return exit_status(passed)


if __name__ == "__main__":
    sys.exit(main())
