"""A busy shop: a sustained rate of points commands while Smart Passes takes 2 s per call.

Run by hand: `.venv/bin/python benchmarks/bench_busy.py [--rate 50] [--seconds 30]
[--database URL]` (default: LOYALTY_TEST_DATABASE_URL if set, else a SQLite file).

`loyalty-bot serve`, the sandbox (1,000 customers, every answer after 2 s), the Slack
stand-in (benchmarks/slack_process.py) and this client each run in their own process. The
client sends signed `/loyalty points <id> 1` commands at a steady rate (each to a customer
with no other command in flight, as at a till), and times each from its send to its reply
reaching the Slack stand-in (both read the system's monotonic clock).
Checked: every command acknowledged, every reply shows its change, every balance is
exact, every audit entry `ok`. Targets (issue 16, item 6): at least 50 commands per
second carried, every reply within 5 s of its command. BENCH_BUSY_SLOWEST=1 also prints
the slowest replies and when their commands were sent.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import parse_qs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks._support import (
    RemoteSlack,
    balances,
    bot_env,
    check,
    percentile,
    sandbox_process,
    serve,
    slack_process,
)
from benchmarks.bench_changes import database
from bot.offline.slack_requests import SlackRequests
from bot.store.database import Store

SECRET, TOKEN, MANAGER = "bench-secret", "xoxb-bench", "UBENCH"
API_SECONDS = 2.0
RATE_TARGET, REPLY_TARGET_S = 50.0, 5.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=RATE_TARGET, help="commands per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--database", default=os.environ.get("LOYALTY_TEST_DATABASE_URL"))
    args = parser.parse_args()
    with ExitStack() as stack:
        url = stack.enter_context(database(args.database))
        api_url = stack.enter_context(sandbox_process("1000", API_SECONDS))
        slack = stack.enter_context(slack_process(TOKEN, MANAGER))
        bot = stack.enter_context(serve(bot_env(slack.url, api_url, url)))
        http = stack.enter_context(
            httpx.Client(timeout=30, limits=httpx.Limits(max_connections=200))
        )
        requests = SlackRequests(bot, SECRET, slack.standin, http=http)
        customers = sorted(balances(api_url))
        warm, _ = send_at_rate(requests, slack, customers[:20], rate=10)  # index, pools
        assert all(r is not None for _, r in warm.values()), "warm-up replies missing"
        count = int(args.rate * args.seconds)
        before = balances(api_url)
        targets = [customers[i % len(customers)] for i in range(count)]
        latencies, sending = send_at_rate(requests, slack, targets, rate=args.rate)
        after = balances(api_url)
        store = Store.from_url(url)
        entries = store.entries(limit=None)
        store.engine.dispose()

    missing = [url for url, (_, seconds) in latencies.items() if seconds is None]
    replies = [seconds for _, seconds in latencies.values() if seconds is not None]
    made = Counter(cid for cid, seconds in latencies.values() if seconds is not None)
    wrong = [c for c in set(targets) if after[c] != before[c] + made[c]]
    not_ok = [e for e in entries if e.outcome != "ok"]
    # Carried: changes made per second of sending, provided each reply came within the
    # target (a bot that falls behind shows it there, not here).
    carried = len(replies) / sending
    print(
        f"\n{count} commands at {args.rate:g}/s for {args.seconds:g} s, every API call 2 s: "
        f"{len(replies)} changes made ({carried:.1f}/s of sending); reply after its "
        f"command p50 {percentile(replies, 50):.2f} s, p99 {percentile(replies, 99):.2f} s, "
        f"max {max(replies):.2f} s; missing {len(missing)}, wrong balances {len(wrong)}, "
        f"audit entries not ok {len(not_ok)}"
    )
    results = [
        check(
            "points commands carried per second (API 2 s)", carried, args.rate, "/s", at_least=True
        ),
        check("slowest reply after its command (API 2 s)", max(replies), REPLY_TARGET_S, "s"),
        check("replies missing or balances wrong", len(missing) + len(wrong), 1, "commands"),
    ]
    return 0 if all(results) else 1


def send_at_rate(
    requests: SlackRequests, slack: RemoteSlack, targets: list[int], *, rate: float
) -> tuple[dict[str, tuple[int, float | None]], float]:
    """Send `/loyalty points <id> 1` for each target, one every 1/rate s. By response URL:
    the customer, and the seconds from the send to a reply showing the change (None if
    it was refused, or no reply came within 60 s); and how long the sending took."""
    sent_at: dict[str, tuple[int, float]] = {}
    lock = threading.Lock()
    expected = len(slack.calls("response_url")) + len(targets)

    def send(cid: int) -> None:
        body = requests.command_body(f"points {cid} 1 busy", user=MANAGER, channel="C1")
        response_url = parse_qs(body)["response_url"][0]
        with lock:
            sent_at[response_url] = (cid, time.monotonic())
        answer = requests.signed_post(body)
        assert answer.status_code == 200, answer.status_code

    start = time.monotonic()
    with ThreadPoolExecutor(64) as pool:
        for i, cid in enumerate(targets):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # the client's pace, not a wait for the bot
            pool.submit(send, cid)
    sending = time.monotonic() - start
    try:
        calls = slack.wait("response_url", count=expected, timeout=60)
    except TimeoutError:  # some never came: counted as missing below
        calls = slack.calls("response_url")
    arrived = {c["args"].get("_url", ""): (c["at"], str(c["args"].get("text", ""))) for c in calls}
    if os.environ.get("BENCH_BUSY_SLOWEST"):
        slow = sorted(
            (arrived.get(u, (math.nan,))[0] - t, t - start) for u, (_, t) in sent_at.items()
        )[-8:]
        print("slowest (reply s, sent at s):", [(round(a, 2), round(b, 1)) for a, b in slow])
    results: dict[str, tuple[int, float | None]] = {}
    refused = []
    for url, (cid, sent) in sent_at.items():
        at, text = arrived.get(url, (math.nan, ""))
        if "→" in text:
            results[url] = (cid, at - sent)
        else:
            results[url] = (cid, None)
            if text:
                refused.append(text[:80])
    if refused:
        print(f"{len(refused)} refused, e.g. {refused[0]}")
    return results, sending


if __name__ == "__main__":
    sys.exit(main())
