"""Acks while Smart Passes is slow: form submissions and commands never wait for it.

Run by hand: `.venv/bin/python benchmarks/bench_forms.py [--forms 100] [--commands 50]`.

`loyalty-bot serve`, the Slack stand-in and the sandbox (1,000 customers, every answer
after 3 s) each run in their own process. This process opens one points form per customer (as Slack holds them),
then sends, all at once, every form's submission ("add 1") and one `/loyalty points <id> 1`
command per other customer, timing each HTTP answer (Slack's 3-second limit). Then it
waits for every change and checks that each was made exactly once: every balance is one
more, every audit entry is `ok`, and no window is left "Saving…".
Targets (issue 11): every ack under 3 s, p99 under 500 ms.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

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
from bot.offline.slack_requests import SlackRequests
from bot.slack import views
from bot.slack.ids import Form, FormContext
from bot.smartpasses.models import Customer
from bot.store.database import Store

SECRET, TOKEN, MANAGER = "bench-secret", "xoxb-bench", "UBENCH"
API_SECONDS = 3.0
P99_TARGET_MS, MAX_MS = 500.0, 3000.0


def open_points_form(slack: RemoteSlack, customer: Customer) -> str:
    """A points form as Slack holds it once opened (the bot built it the same way)."""
    view_id = f"VBENCH{customer.id}"
    context = FormContext(form=Form.POINTS, target_id=customer.id, balance=customer.points)
    slack.open_view(view_id, {**views.points_form(context, customer, 1000), "id": view_id})
    return view_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--forms", type=int, default=100)
    parser.add_argument("--commands", type=int, default=50)
    args = parser.parse_args()
    with ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        api_url = stack.enter_context(sandbox_process("1000", latency=API_SECONDS))
        slack = stack.enter_context(slack_process(TOKEN, MANAGER))
        env = bot_env(slack.url, api_url, f"sqlite:///{tmp}/bench.db", SMARTPASSES_TIMEOUT="20")
        bot = stack.enter_context(serve(env))
        http = stack.enter_context(
            httpx.Client(timeout=30, limits=httpx.Limits(max_connections=200))
        )
        requests = SlackRequests(bot, SECRET, slack.standin, http=http)
        before = balances(api_url)
        ids = sorted(before)
        form_targets, command_targets = ids[: args.forms], ids[args.forms :][: args.commands]
        forms = [
            open_points_form(slack, Customer(id=cid, firstName="C", points=before[cid]))
            for cid in form_targets
        ]
        submissions = [
            requests.interaction_body(
                requests.submission(
                    view_id, {"points_op": "add", "points_amount": "1"}, user=MANAGER
                )
            )
            for view_id in forms
        ]
        commands = [
            requests.command_body(f"points {cid} 1", user=MANAGER, channel="C1")
            for cid in command_targets
        ]
        jobs = [("form", body) for body in submissions] + [("command", b) for b in commands]

        def send(job: tuple[str, str]) -> tuple[str, float, int]:
            kind, body = job
            start = time.perf_counter()
            response = requests.signed_post(body)
            return kind, (time.perf_counter() - start) * 1000, response.status_code

        started = time.perf_counter()
        with ThreadPoolExecutor(len(jobs)) as pool:
            acks = list(pool.map(send, jobs))
        assert all(status == 200 for _, _, status in acks), "every request acked"

        def finished() -> bool:
            done = [
                c
                for c in slack.calls("views.update")
                if "Saving" not in json.dumps(c["args"].get("view"))
            ]
            return len(done) >= len(forms) and len(slack.calls("response_url")) >= len(commands)

        deadline = time.monotonic() + 600
        while not finished():
            assert time.monotonic() < deadline, "not every change finished in 10 minutes"
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        after = balances(api_url)
        for cid in form_targets + command_targets:
            assert after[cid] == before[cid] + 1, f"customer {cid} was not changed exactly once"
        audit = Store.from_url(env["DATABASE_URL"])
        entries = audit.entries(limit=None)
        assert len(entries) == len(jobs) and all(e.outcome == "ok" for e in entries)
        audit.engine.dispose()

    print(f"\n{len(forms)} form submissions and {len(commands)} commands at once, every")
    print(f"Smart Passes answer after {API_SECONDS:.0f} s; all {len(jobs)} changes made exactly")
    print(f"once (balances and audit checked), the last after {elapsed:.1f} s.\n")
    print("| acks (time to Slack's HTTP 200) | p50 | p99 | max | target |")
    print("|---|---|---|---|---|")
    worst = 0.0
    for kind in ("form", "command"):
        samples = [ms for k, ms, _ in acks if k == kind]
        p99, top = percentile(samples, 99), max(samples)
        worst = max(worst, p99)
        print(
            f"| {kind} ({len(samples)}) | {percentile(samples, 50):.0f} ms | {p99:.0f} ms | "
            f"{top:.0f} ms | p99 < {P99_TARGET_MS:.0f} ms, all < {MAX_MS / 1000:.0f} s |"
        )
    for kind in ("form", "command"):
        samples = [ms for k, ms, _ in acks if k == kind]
        check(
            f"{kind} ack p99 (API 3 s, all at once)", percentile(samples, 99), P99_TARGET_MS, "ms"
        )
    check("slowest ack", max(ms for _, ms, _ in acks), MAX_MS, "ms")
    if worst >= P99_TARGET_MS or max(ms for _, ms, _ in acks) >= MAX_MS:
        raise SystemExit("an ack target was missed")


if __name__ == "__main__":
    main()
