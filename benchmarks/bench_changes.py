"""Points changes through one bot process, and what making each one trustworthy costs.

Run by hand: `.venv/bin/python benchmarks/bench_changes.py [--changes 400]
[--database URL]` (default: LOYALTY_TEST_DATABASE_URL if set, else a SQLite file).

- The sandbox (1,000 customers), the Slack stand-in and `loyalty-bot serve` each run in
  their own process; this one sends signed `/loyalty points <id> 1` commands from 100
  (IN_FLIGHT) senders, each sending its next once its last one's reply has reached the
  Slack stand-in (so 100 are always in flight, as in the bare client). Once spread over
  all customers, once all to one customer (serialised by its lock). Every reply must be
  its customer's receipt (the name, and the exact balance before → after where the
  customer had no other change in flight), every final balance must be exact, and every
  audit entry `ok`.
- Against a bare client: `benchmarks/bare_client.py`, in a process of its own, makes the
  same Smart Passes calls (read the balance, add the points) for the same customers, as
  many at a time as the bot is given (IN_FLIGHT: its work pool takes them all at once),
  with the bot's client and nothing else. The bot's changes/s over it is what
  the ledger, Slack and the database cost (target: at least 0.7 of the bare client's).
- The same ratio with every Smart Passes answer taking 0.2 s (as over the internet; a
  fresh bot, sandbox and database): with the API answering at once, the run above is
  bound by this machine's CPUs, which the bot shares with the sandbox, the Slack
  stand-in, this client and the database, where the bare client shares them with the
  sandbox only.
- The lock: taking and releasing a record's lock (on keys of its own) while the bot makes
  its changes against the same database, so it contends with them, from a process of its
  own (benchmarks/lock_sampler.py: in this one, the sending threads' turns at the
  interpreter would be counted as the lock's); only the samples taken while the changes
  ran count (target: p99 < 5 ms on PostgreSQL, from at least 1,000 of them).
- Record first: writing the intent and completing it, the two writes every change adds.
- Rounds: each run (the spread, and the one at 0.2 s) is ROUNDS rounds, the bot and the
  bare client taking turns; each verdict (the ratios, the lock's p99) is the median
  round's, every round's printed beside it.
On PostgreSQL it works in a schema of its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from statistics import median
from urllib.parse import parse_qs, quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from benchmarks._support import (
    RemoteSlack,
    Replies,
    balances,
    bot_env,
    check,
    customer_records,
    exit_status,
    median_round,
    percentile,
    sandbox_process,
    sender,
    serve,
    slack_process,
)
from bot.core.intents import Intent
from bot.core.ledger import Ledger
from bot.domain.audit import Action, Actor, Outcome
from bot.offline.slack_requests import SlackRequests
from bot.smartpasses.pool import with_linear_pool
from bot.store.database import Store
from bot.store.locks import locks_for

SECRET, TOKEN, MANAGER = "bench-secret", "xoxb-bench", "UBENCH"
LOCK_TARGET_MS = 5.0
RATIO_TARGET = 0.7  # the bot's changes/s over the bare client's, at least
LOCK_SAMPLES = 1000
REALISTIC_API_SECONDS = 0.2  # a Smart Passes answer over the internet
IN_FLIGHT = 100  # changes sent and not yet answered, at most
ROUNDS = 3  # of each run: its verdict is the median round's


@contextmanager
def database(url: str | None):
    """A fresh database for the run: a new schema on PostgreSQL, a temporary SQLite file."""
    if not url:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    schema = f"loyalty_bench_{os.getpid()}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def run_changes(
    requests: SlackRequests, slack: RemoteSlack, targets: list[int], api_url: str
) -> float:
    """Send one `+1` per target from IN_FLIGHT senders, each sending its next command once
    the last one's reply has come (as the bare client's threads each make their next
    change once the last is done); check every reply and balance; changes/s."""
    records = {c["id"]: c for c in customer_records(api_url)}
    before = {cid: c["points"] for cid, c in records.items()}
    replies = Replies(slack)

    def change(cid: int) -> tuple[int, str]:
        body = requests.command_body(f"points {cid} 1 bench", user=MANAGER, channel="C1")
        reply = replies.expect(parse_qs(body)["response_url"][0])
        response = requests.signed_post(body)
        assert response.status_code == 200, response.status_code
        return cid, reply(600)

    try:
        start = time.perf_counter()
        with ThreadPoolExecutor(IN_FLIGHT) as pool:
            answered = list(pool.map(change, targets))
        elapsed = time.perf_counter() - start
    finally:
        replies.close()
    wrong = [
        (cid, text) for cid, text in answered if not receipt(text, records[cid], targets.count(cid))
    ]
    assert not wrong, f"{len(wrong)} replies not the change's receipt, e.g. {wrong[0]}"
    after = balances(api_url)
    for cid in set(targets):
        assert after[cid] == before[cid] + targets.count(cid), f"balance of {cid} is wrong"
    return len(targets) / elapsed


def receipt(text: str, customer: dict, changes: int) -> bool:
    """`text` is the receipt of a `+1` to `customer` (as it was before the run): its name,
    and its balance before and after when it was the customer's only change (with several
    at once, each reply's balance depends on its turn; the final balance is checked)."""
    full_name = f"{customer.get('firstName') or ''} {customer.get('lastName') or ''}".strip()
    name = customer.get("humanName") or full_name or f"Anónimo #{customer['id']}"
    if changes == 1:
        points = customer["points"]
        return text == f"{name}: {points:,} → {points + 1:,} points"
    return text.startswith(f"{name}: ") and "→" in text


class LockSampler:
    """Lock takes and releases from a process of its own (benchmarks/lock_sampler.py),
    while the bot makes its changes: started ready, `samples()` once they are done."""

    def __init__(self, url: str, least: int) -> None:
        script = Path(__file__).resolve().parent / "lock_sampler.py"
        self._process = subprocess.Popen(
            [sys.executable, str(script), url, str(least)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        assert self._process.stdout.readline().strip() == "ready", "the lock sampler failed"

    def samples(self) -> tuple[list[float], int]:
        """Milliseconds each take + release took, and how many of the first were taken
        while the changes ran (the sampler goes on until it has LOCK_SAMPLES)."""
        self._process.stdin.close()  # the changes are done
        out = self._process.stdout.read()
        assert self._process.wait(timeout=300) == 0, "the lock sampler failed"
        under_load, *samples = out.split()
        return [float(s) for s in samples], int(under_load)


def bare_rate(api_url: str, targets: list[int]) -> float:
    """The bare client's changes/s for `targets`, from its own process."""
    script = Path(__file__).resolve().parent / "bare_client.py"
    done = subprocess.run(
        [sys.executable, str(script), api_url, ",".join(map(str, targets)), str(IN_FLIGHT)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip())


def record_first_latency(url: str, rounds: int) -> list[float]:
    store = Store.from_url(url)
    ledger = Ledger(store, locks_for(store.engine))
    samples = []
    for i in range(rounds):
        intent = Intent(Action.POINTS_ADD, "customer", i, "bench", before=0, requested="+1")
        start = time.perf_counter()
        pending = ledger.begin(Actor(MANAGER), intent)
        ledger.finish(pending, Outcome.OK, after=1)
        samples.append((time.perf_counter() - start) * 1000)
    ledger.locks.close()
    store.engine.dispose()
    return samples


def bound_by_the_api(
    database_url: str | None, changes: int, latency: float
) -> list[tuple[float, float]]:
    """The bot's and the bare client's changes/s, each of ROUNDS rounds, when every Smart
    Passes answer takes `latency` s (as over the internet): in a fresh database and
    sandbox, every reply, balance and audit entry checked as in the main run."""
    with ExitStack() as stack:
        url = stack.enter_context(database(database_url))
        api_url = stack.enter_context(sandbox_process("1000", latency=latency))
        slack = stack.enter_context(slack_process(TOKEN, MANAGER))
        bot = stack.enter_context(serve(bot_env(slack.url, api_url, url)))
        http = stack.enter_context(with_linear_pool(sender(IN_FLIGHT, timeout=30)))
        requests = SlackRequests(bot, SECRET, slack.standin, http=http)
        customers = sorted(balances(api_url))
        run_changes(requests, slack, customers[:20], api_url)  # warm-up: index, pools
        spread = [customers[i % len(customers)] for i in range(changes)]
        rounds = []
        for _ in range(ROUNDS):  # the bot, then the bare client, in turn
            rate = run_changes(requests, slack, spread, api_url)
            rounds.append((rate, bare_rate(api_url, spread)))
        check_entries(url, 20 + ROUNDS * len(spread))
    return rounds


def check_entries(url: str, count: int) -> None:
    """One audit entry per change, each ok."""
    audit = Store.from_url(url)
    entries = audit.entries(limit=None)
    audit.engine.dispose()
    assert len(entries) == count, "one entry per change"
    assert all(e.outcome == "ok" for e in entries), "every entry ok"


def spread(values: list[float], unit: str = "") -> str:
    """Each round's figure, as printed beside the median."""
    return ", ".join(f"{v:.2f}{unit}" for v in values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--changes", type=int, default=400)
    parser.add_argument("--database", default=os.environ.get("LOYALTY_TEST_DATABASE_URL"))
    args = parser.parse_args()
    kind = "PostgreSQL" if args.database else "SQLite"
    rounds: list[tuple[float, float]] = []  # (the bot's changes/s, the bare client's)
    lock_rounds: list[list[float]] = []
    with ExitStack() as stack:
        url = stack.enter_context(database(args.database))
        api_url = stack.enter_context(sandbox_process("1000"))
        slack = stack.enter_context(slack_process(TOKEN, MANAGER))
        env = bot_env(slack.url, api_url, url)
        bot = stack.enter_context(serve(env))
        http = stack.enter_context(with_linear_pool(sender(IN_FLIGHT, timeout=30)))
        requests = SlackRequests(bot, SECRET, slack.standin, http=http)
        customers = sorted(balances(api_url))
        run_changes(requests, slack, customers[:20], api_url)  # warm-up: index, pools
        targets = [customers[i % len(customers)] for i in range(args.changes)]
        for _ in range(ROUNDS):  # the bot (the lock sampled meanwhile), then the bare client
            locker = LockSampler(url, LOCK_SAMPLES)
            rate = run_changes(requests, slack, targets, api_url)
            all_locks, under_load = locker.samples()
            assert under_load >= LOCK_SAMPLES, f"only {under_load} lock samples under load"
            lock_rounds.append(all_locks[:under_load])
            rounds.append((rate, bare_rate(api_url, targets)))
        one = [customers[0]] * (args.changes // 4)
        one_rate = run_changes(requests, slack, one, api_url)
        check_entries(url, 20 + ROUNDS * len(targets) + len(one))
        writes = record_first_latency(url, 500)

    api_rounds = bound_by_the_api(args.database, args.changes, REALISTIC_API_SECONDS)
    ratios = [rate / bare for rate, bare in rounds]
    api_ratios = [rate / bare for rate, bare in api_rounds]
    ratio, api_ratio = median(ratios), median(api_ratios)
    lock_p99, lock_p99s = median_round(lock_rounds)
    lock_p50, _ = median_round(lock_rounds, 50)
    fewest = min(map(len, lock_rounds))
    target = f"< {LOCK_TARGET_MS:.0f} ms" if kind == "PostgreSQL" else "(PostgreSQL only)"
    rows = [
        (
            f"changes/s, {args.changes} over 1,000 customers",
            " / ".join(f"{rate:.0f}" for rate, _ in rounds),
            "—",
        ),
        ("bare client's changes/s, the same calls", " / ".join(f"{b:.0f}" for _, b in rounds), "—"),
        (
            "bot over the bare client",
            f"{ratio:.2f}x ({spread(ratios, 'x')})",
            f">= {RATIO_TARGET}x",
        ),
        (f"changes/s, {len(one)} to one customer", f"{one_rate:,.0f}", "—"),
        (f"lock take + release under load, p50 (>= {fewest:,} a round)", f"{lock_p50:.2f} ms", ""),
        (
            f"lock take + release under load, p99 (>= {fewest:,} a round)",
            f"{lock_p99:.2f} ms ({spread(lock_p99s)})",
            target,
        ),
        ("intent + completion writes, p50", f"{percentile(writes, 50):.2f} ms", ""),
        ("intent + completion writes, p99", f"{percentile(writes, 99):.2f} ms", ""),
        (
            f"changes/s, API {REALISTIC_API_SECONDS:g} s: bot / bare",
            ", ".join(f"{rate:.0f} / {bare:.0f}" for rate, bare in api_rounds),
            "—",
        ),
        (
            f"bot over the bare client, API {REALISTIC_API_SECONDS:g} s",
            f"{api_ratio:.2f}x ({spread(api_ratios, 'x')})",
            f">= {RATIO_TARGET}x",
        ),
    ]
    print(
        f"\nPoints changes through one `serve` process, {kind}; the sandbox answering at once "
        f"(every process on this machine's CPUs), then after {REALISTIC_API_SECONDS:g} s. "
        f"{ROUNDS} rounds each, the bot and the bare client in turn: a verdict is the median "
        "round's, each round's in brackets."
    )
    print("Every reply was its customer's receipt, every balance was exact, every entry ok.\n")
    print(f"| {'figure':<52} | {'measured':>24} | target |")
    print(f"|{'-' * 54}|{'-' * 26}|--------|")
    for figure, measured, goal in rows:
        print(f"| {figure:<52} | {measured:>24} | {goal} |")
    missed = []
    if not check(f"changes/s over a bare client ({kind})", ratio, RATIO_TARGET, "x", at_least=True):
        missed.append(f"the bot made {ratio:.2f}x the bare client's changes/s")
    if not check(
        f"changes/s over a bare client, API {REALISTIC_API_SECONDS:g} s ({kind})",
        api_ratio,
        RATIO_TARGET,
        "x",
        at_least=True,
    ):
        missed.append(f"{api_ratio:.2f}x with the API at {REALISTIC_API_SECONDS:g} s")
    if kind == "PostgreSQL" and not check(
        "record lock p99 under load (PostgreSQL)", lock_p99, LOCK_TARGET_MS, "ms"
    ):
        missed.append(f"lock p99 {lock_p99:.2f} ms is over {LOCK_TARGET_MS:g} ms")
    return exit_status(not missed, "; ".join(missed))


if __name__ == "__main__":
    sys.exit(main())
