"""Found on the first try, and a true miss told at once, while Smart Passes is slow.

Run by hand: `.venv/bin/python benchmarks/bench_first_try.py [--customers 100000]
[--misses 1000] [--rate 20] [--rounds 3]`.

`loyalty-bot serve` (its index loaded), the sandbox (`--customers` customers, every
answer after 2 s), the Slack stand-in and this client each run in their own process; the
shop's country is MX. Two things are timed, from the command's send to its reply reaching
the Slack stand-in (both on the machine's monotonic clock):

- True misses: `/loyalty customer <email>` for emails nobody has, `--rate` a second. The
  bot reads the list again (at most every 3 s) or, past 0.8 s, says it is looking and
  answers after; the first answer is what the person waits for. Every first answer must
  say nobody matches or that it is looking, and every one that said it was looking must
  later say nobody matches.
- New sign-ups: a customer created at Smart Passes (its API, not the bot) a moment before
  `/loyalty customer <their email>`. The person must get their card's choice without
  typing again: timed to that answer.

Targets: first answer to a true miss p99 < 1 s (the median of `--rounds` rounds' p99, each
from `--misses` misses sent one after another: 1,000 by default); every new sign-up found
on the first command.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import parse_qs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks._support import (
    bot_env,
    check,
    cpu_split,
    median_round,
    percentile,
    sandbox_process,
    serve,
    slack_process,
)
from bot.offline.sandbox import DEMO_APP_KEY, DEMO_PROGRAM_ID
from bot.offline.slack_requests import SlackRequests

SECRET, TOKEN, MANAGER = "bench-secret", "xoxb-bench", "UBENCH"
API_SECONDS = 2.0
MISS_TARGET_S = 1.0
LOOKING = "is not in my list yet"
NOBODY = "No customer matches"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--misses", type=int, default=1000, help="misses a round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=20.0, help="misses a second")
    parser.add_argument("--signups", type=int, default=10)
    args = parser.parse_args()
    app_cpus, other_cpus = cpu_split()
    with ExitStack() as stack:
        import tempfile

        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        api_url = stack.enter_context(
            sandbox_process(str(args.customers), API_SECONDS, cpus=other_cpus)
        )
        slack = stack.enter_context(slack_process(TOKEN, MANAGER, cpus=other_cpus))
        env = bot_env(slack.url, api_url, f"sqlite:///{tmp}/b.db", LOYALTY_DEFAULT_REGION="MX")
        bot = stack.enter_context(serve(env, app_cpus))
        http = stack.enter_context(
            httpx.Client(timeout=60, limits=httpx.Limits(max_connections=64))
        )
        requests = SlackRequests(bot, SECRET, slack.standin, http=http)
        sent_at: dict[str, float] = {}

        def send(text: str) -> str:
            body = requests.command_body(text, user=MANAGER, channel="C1")
            url = parse_qs(body)["response_url"][0]
            sent_at[url] = time.monotonic()  # the stand-in's clock: CLOCK_MONOTONIC too
            assert requests.signed_post(body).status_code == 200
            return url

        send("customer 1")  # warm-up: the index loaded, the list read
        slack.wait("response_url", count=1, timeout=600)
        misses = []
        start = time.monotonic()
        with ThreadPoolExecutor(64) as pool:
            futures = []
            for n in range(args.misses * args.rounds):
                time.sleep(max(0.0, start + n / args.rate - time.monotonic()))
                futures.append(pool.submit(send, f"customer nobody{n}@example.com"))
            misses = [f.result() for f in futures]
        signups = []
        with httpx.Client(timeout=60) as api:
            for n in range(args.signups):
                email = f"signup{n}@example.com"
                created = api.post(
                    f"{api_url}programs/{DEMO_PROGRAM_ID}/customers",
                    headers={"Authorization": DEMO_APP_KEY},
                    json={"firstName": "Nueva", "lastName": f"Cliente{n}", "email": email},
                )
                assert created.status_code == 200, created.text
                signups.append((send(f"customer {email}"), f"Cliente{n}"))
        by_url: dict[str, list[dict]] = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # the answers that come after "looking"
            replies = slack.calls("response_url")
            by_url = {}
            for reply in replies:
                by_url.setdefault(reply["args"]["_url"], []).append(reply)
            pending = [
                u
                for u in [*misses, *(u for u, _name in signups)]
                if len(by_url.get(u, [])) == 1 and LOOKING in _text(by_url[u][0])
            ]
            if not pending and all(u in by_url for u in misses):
                break
            time.sleep(0.5)  # polling another process for replies: no event to wait on

    first: list[list[float]] = [[] for _ in range(args.rounds)]
    for n, url in enumerate(misses):
        answers = by_url.get(url, [])
        assert answers, f"no answer to {url}"
        said = _text(answers[0])
        assert NOBODY in said or LOOKING in said, said
        if LOOKING in said:
            assert len(answers) == 2 and NOBODY in _text(answers[1]), answers
        first[n // args.misses].append(answers[0]["at"] - sent_at[url])
    found = []
    for url, name in signups:
        answers = by_url.get(url, [])
        final = _text(answers[-1]) if answers else ""
        assert name in final, (name, answers)  # its card's choice, without typing again
        found.append(answers[-1]["at"] - sent_at[url])
    every = [seconds for one_round in first for seconds in one_round]
    p99, p99s = median_round(first)
    p50 = percentile(every, 50)
    print(
        f"\nLookups with Smart Passes answering after {API_SECONDS:g} s, "
        f"{args.customers:,} customers, one `serve` process"
    )
    print("Every miss was answered (nobody, or looking and then nobody); every sign-up found.\n")
    print(f"| {'figure':<48} | {'measured':>10} | target |")
    print(f"|{'-' * 50}|{'-' * 12}|--------|")
    print(f"| {'true miss, first answer p50':<48} | {p50:>8.2f} s |  |")
    print(
        f"| {'true miss, first answer p99, median round':<48} "
        f"| {p99:>8.2f} s | < {MISS_TARGET_S:g} s |"
    )
    print(
        f"| {'  rounds of ' + format(args.misses, ',') + ' misses':<48} | {', '.join(f'{p:.2f}' for p in p99s):>10} |  |"
    )
    print(f"| {'true miss, first answer max':<48} | {max(every):>8.2f} s |  |")
    print(
        f"| {'new sign-up found, answer p50 / max':<48} | "
        f"{percentile(found, 50):>4.1f} / {max(found):.1f} s |  |"
    )
    check("true miss first answer p99, 2 s API", p99, MISS_TARGET_S, "s")
    check("new sign-ups found on the first command", len(found), args.signups, "", at_least=True)


def _text(reply: dict) -> str:
    args = reply["args"]
    return str(args.get("blocks") or "") + str(args.get("text") or "")


if __name__ == "__main__":
    main()
