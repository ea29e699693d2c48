"""The wait people feel: from sending `/loyalty points` to its answer, at a steady rate.

Run by hand: `.venv/bin/python benchmarks/bench_wait.py [--server gunicorn|serve]
[--database URL|sqlite] [--rates 10,50] [--api 0.2,2] [--seconds 60] [--rounds 3]`
(database default: LOYALTY_TEST_DATABASE_URL if set, else a SQLite file).

The bot runs as it is deployed: `--server gunicorn` runs the Procfile's `web:` line as it
stands (gunicorn, its workers and threads), `--server serve` runs `loyalty-bot serve`. The
sandbox (1,000 customers, every answer after `--api` s), the Slack stand-in
(benchmarks/slack_process.py) and this client each run in their own process; the bot has
one CPU of its own, the rest share the others (Slack, Smart Passes and the people sending
commands are not on the bot's host).

For each API latency and rate, the client sends signed `/loyalty points <id> 1` commands
at that rate without pause (each to a customer with no other command in flight, as at a
till) and times each from its send to its answer reaching the Slack stand-in (both read
the system's monotonic clock). The stream is cut into `--rounds` consecutive rounds of at
least 1,000 commands and at least `--seconds` in all; each round's p50/p99/max is printed
and the verdict is on the median round's p99.
Checked: every answer is the exact receipt for its customer (name, before → after), no
command is lost or refused, every final balance is exact, every audit entry `ok`. Target (issue 28, item 1): p99
at most the API floor (the command's two Smart Passes calls in series) plus 1 s.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from urllib.parse import parse_qs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks._support import (
    SERVERS,
    RemoteSlack,
    bot_env,
    check,
    cpu_split,
    customer_records,
    exit_status,
    percentile,
    pin,
    sandbox_process,
    sender,
    serve,
    slack_process,
)
from benchmarks.bench_changes import database
from bot.offline.slack_requests import SlackRequests
from bot.store.database import Store

SECRET, TOKEN, MANAGER = "bench-secret", "xoxb-bench", "UBENCH"
CALLS_IN_SERIES = 2  # a points change reads the customer, then adds the points
ABOVE_FLOOR_S = 1.0  # what the target allows above the API floor
MIN_SAMPLES = 1000  # per round: a p99 from fewer is one or two requests
ANSWER_WAIT_S = 60  # after the last send: an answer later than this is lost


@dataclass
class Customer:
    name: str
    points: int


@dataclass
class Sent:
    customer: int
    at: float  # monotonic, when the command was sent
    expected: str  # the answer's text, exactly


@dataclass
class Stream:
    """One rate's commands, by response URL, and how they were answered."""

    sent: dict[str, Sent] = field(default_factory=dict)
    seconds: float = 0.0
    undelivered: list[str] = field(default_factory=list)  # the ack never came: why


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", choices=SERVERS, default="gunicorn")
    parser.add_argument(
        "--database",
        default=os.environ.get("LOYALTY_TEST_DATABASE_URL"),
        help="a PostgreSQL URL, or 'sqlite' (default: LOYALTY_TEST_DATABASE_URL, else SQLite)",
    )
    parser.add_argument("--rates", default="10,50", help="commands per second, comma-separated")
    parser.add_argument("--api", default="0.2,2", help="Smart Passes latencies in s")
    parser.add_argument("--seconds", type=float, default=60.0, help="at least, per rate")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    database_url = None if args.database in (None, "", "sqlite") else args.database
    kind = "PostgreSQL" if database_url else "SQLite"
    rates = [float(r) for r in args.rates.split(",")]
    latencies = [float(a) for a in args.api.split(",")]
    app_cpus, rest = cpu_split()
    pin(os.getpid(), rest)
    verdicts = []
    print(
        f"| {args.server}, {kind} | API | rate | commands | p50 / p99 / max by round (s) "
        "| median p99 | target | lost / refused / wrong |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for latency in latencies:
        with ExitStack() as stack:
            api_url = stack.enter_context(sandbox_process("1000", latency, cpus=rest))
            url = stack.enter_context(database(database_url))
            slack = stack.enter_context(slack_process(TOKEN, MANAGER, cpus=rest))
            env = bot_env(slack.url, api_url, url)
            bot = stack.enter_context(serve(env, app_cpus, server=args.server))
            http = stack.enter_context(sender(300))
            requests = SlackRequests(bot, SECRET, slack.standin, http=http)
            customers = customers_of(api_url)
            ids = sorted(customers)
            # Warm-up: every worker's connections, pools and customer index.
            run_stream(requests, slack, customers, ids[:100], rate=10)
            offset = 100
            for rate in rates:
                per_round = max(MIN_SAMPLES, math.ceil(rate * args.seconds / args.rounds))
                targets = [ids[(offset + i) % len(ids)] for i in range(per_round * args.rounds)]
                offset += len(targets)
                stream = run_stream(requests, slack, customers, targets, rate=rate)
                verdicts += report(args, kind, latency, rate, per_round, stream, slack)
            wrong = wrong_balances(api_url, customers)
            store = Store.from_url(url)
            not_ok = sum(1 for e in store.entries(limit=None) if e.outcome != "ok")
            store.engine.dispose()
            print(f"  wrong balances {wrong}, audit entries not ok {not_ok}")
            verdicts.append(
                check(
                    f"balances wrong or audit entries not ok, API {latency:g} s "
                    f"({args.server}, {kind})",
                    wrong + not_ok,
                    1,
                    "records",
                )
            )
    return exit_status(all(verdicts))


def customers_of(api_url: str) -> dict[int, Customer]:
    """Every customer's name and points, straight from the Loyalty API."""
    return {
        c["id"]: Customer(f"{c['firstName']} {c['lastName']}".strip(), c["points"])
        for c in customer_records(api_url)
    }


def wrong_balances(api_url: str, customers: dict[int, Customer]) -> int:
    """Customers whose balance at Smart Passes is not what the answers said it became."""
    now = customers_of(api_url)
    return sum(1 for cid, c in customers.items() if now[cid].points != c.points)


def run_stream(
    requests: SlackRequests,
    slack: RemoteSlack,
    customers: dict[int, Customer],
    targets: list[int],
    *,
    rate: float,
) -> Stream:
    """Send `/loyalty points <id> 1` for each target, one every 1/rate s, and wait for the
    answers (up to ANSWER_WAIT_S after the last send). `customers` is kept up to date: the
    expected balance after each command."""
    stream = Stream()
    lock = threading.Lock()
    expected_calls = len(slack.calls("response_url")) + len(targets)

    def send(cid: int, expected: str) -> None:
        body = requests.command_body(f"points {cid} 1 wait", user=MANAGER, channel="C1")
        response_url = parse_qs(body)["response_url"][0]
        with lock:
            stream.sent[response_url] = Sent(cid, time.monotonic(), expected)
        try:
            answer = requests.signed_post(body)
            assert answer.status_code == 200, answer.status_code
        except (httpx.HTTPError, AssertionError) as exc:  # counted as lost, and said why
            stream.undelivered.append(f"{type(exc).__name__}: {exc}")

    start = time.monotonic()
    with ThreadPoolExecutor(128) as pool:
        for i, cid in enumerate(targets):
            customer = customers[cid]
            expected = f"{customer.name}: {customer.points:,} → {customer.points + 1:,} points"
            customer.points += 1
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # the client's pace, not a wait for the bot
            pool.submit(send, cid, expected)
    stream.seconds = time.monotonic() - start
    with contextlib.suppress(TimeoutError):  # some never came: counted as lost
        slack.wait("response_url", count=expected_calls, timeout=ANSWER_WAIT_S)
    return stream


def receipt(text: str, sent: Sent) -> bool:
    """`text` is the answer `sent` expects (a customer with no name is shown by id)."""
    if sent.expected.startswith(": "):
        return text.endswith(sent.expected) and str(sent.customer) in text
    return text == sent.expected


def report(
    args: argparse.Namespace,
    kind: str,
    latency: float,
    rate: float,
    per_round: int,
    stream: Stream,
    slack: RemoteSlack,
) -> list[bool]:
    arrived = {
        c["args"].get("_url", ""): (c["at"], str(c["args"].get("text", "")))
        for c in slack.calls("response_url")
    }
    ordered = sorted(stream.sent.values(), key=lambda s: s.at)
    by_url = {id(s): url for url, s in stream.sent.items()}
    lost = refused = wrong = 0
    rounds: list[list[float]] = [[] for _ in range(args.rounds)]
    example = ""
    for n, sent in enumerate(ordered):
        at, text = arrived.get(by_url[id(sent)], (math.nan, ""))
        if not text:
            lost += 1
        elif not receipt(text, sent):
            if "→" in text:
                wrong += 1
            else:
                refused += 1
            example = example or f"{sent.expected!r} answered {text[:100]!r}"
        else:
            rounds[min(n // per_round, args.rounds - 1)].append(at - sent.at)
    floor = CALLS_IN_SERIES * latency
    target = floor + ABOVE_FLOOR_S
    p99s = [percentile(r, 99) if r else math.inf for r in rounds]
    spread = ", ".join(
        f"{percentile(r, 50):.2f} / {percentile(r, 99):.2f} / {max(r):.2f}" if r else "none"
        for r in rounds
    )
    print(
        f"| | {latency:g} s | {rate:g}/s | {len(ordered):,} in {stream.seconds:.0f} s "
        f"| {spread} | {median(p99s):.2f} s | ≤ {target:g} s | {lost} / {refused} / {wrong} |",
        flush=True,
    )
    if example:
        print(f"  e.g. {example}")
    if stream.undelivered:
        print(f"  {len(stream.undelivered)} not acknowledged, e.g. {stream.undelivered[0]}")
    where = f"{rate:g}/s, API {latency:g} s ({args.server}, {kind})"
    return [
        check(f"answer p99 after its command, {where}", median(p99s), target, "s"),
        check(f"answers lost, refused or wrong, {where}", lost + refused + wrong, 1, "commands"),
    ]


if __name__ == "__main__":
    sys.exit(main())
