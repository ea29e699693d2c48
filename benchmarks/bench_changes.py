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
- Where that cost goes: a bare Bolt app (`benchmarks/bare_bolt.py --loyalty-api`), served
  as `serve` serves the bot, gets the same commands and, after the ack, makes the same
  calls and posts the receipt, with the bot's client and reply pool: no ledger, lock,
  store, roles or work gate. Its changes/s over the bare client's is what Slack and Bolt
  cost; the bot's over its, what the bot's own work costs. Each process's CPU per change
  is printed beside it (the bot's, the bare app's: their serving process's CPU time over
  the round; the bare client's: its own).
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
- What this machine allows: in the run at 0.2 s, every process's CPU on the machine (the
  app's, the sandbox's, the Slack stand-in's, the senders', the database's) per change,
  for each app; the changes/s that would keep every CPU busy at that cost, over the bare
  client's, is the most any layout of the app's work (more threads, more processes) could
  reach here. (Not in the first run: the lock sampler shares the CPUs with the bot there.)
- Record first: writing the intent and completing it, the two writes every change adds.
- Rounds: each run (the spread, and the one at 0.2 s) is ROUNDS rounds, the bot, the bare
  Bolt app and the bare client taking turns; each verdict (the ratios, the lock's p99)
  is the median round's, every round's printed beside it.
On PostgreSQL it works in a schema of its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from urllib.parse import parse_qs, quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from benchmarks._support import (
    SERVING,
    RemoteSlack,
    Replies,
    balances,
    bot_env,
    check,
    cpu_seconds,
    customer_records,
    exit_status,
    machine_busy_seconds,
    median_round,
    percentile,
    record,
    sandbox_process,
    script_process,
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
WARM_UP = 20  # changes through each app before it is measured


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


@dataclass(frozen=True)
class Run:
    """One app's turn: its changes/s, its own CPU per change (ms) and the whole machine's
    (every process on it: the app, the sandbox, the Slack stand-in, the senders, the
    database) per change (ms)."""

    rate: float
    cpu: float
    machine: float

    def ceiling(self) -> float:
        """The changes/s this machine's CPUs would allow at its machine CPU per change."""
        return (os.cpu_count() or 1) / self.machine * 1000


@dataclass(frozen=True)
class Round:
    """One round: the bot, the bare Bolt app and the bare client, in turn."""

    bot: Run
    bolt: Run
    bare: Run


def app_run(
    app: SlackRequests, slack: RemoteSlack, targets: list[int], api_url: str, base: str
) -> Run:
    """run_changes through the app served at `base`, with its serving process's CPU."""
    pid = SERVING[base]
    cpu, machine = cpu_seconds(pid), machine_busy_seconds()
    rate = run_changes(app, slack, targets, api_url)
    per_change = 1000 / len(targets)
    return Run(
        rate,
        (cpu_seconds(pid) - cpu) * per_change,
        (machine_busy_seconds() - machine) * per_change,
    )


def bare_rate(api_url: str, targets: list[int]) -> Run:
    """The bare client's changes/s for `targets`, from its own process, and its CPU."""
    script = Path(__file__).resolve().parent / "bare_client.py"
    machine = machine_busy_seconds()
    done = subprocess.run(
        [sys.executable, str(script), api_url, ",".join(map(str, targets)), str(IN_FLIGHT)],
        capture_output=True,
        text=True,
        check=True,
    )
    machine = (machine_busy_seconds() - machine) / len(targets) * 1000  # its start too
    rate, cpu = done.stdout.split()
    return Run(float(rate), float(cpu), machine)


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


@dataclass(frozen=True)
class Apps:
    """The Slack stand-in, the bot and the bare Bolt app (base URLs), and signed requests
    to each from the senders' connections."""

    slack: RemoteSlack
    bot: str
    bolt: str
    to: dict[str, SlackRequests]
    customers: list[int]

    def run(self, base: str, targets: list[int], api_url: str) -> Run:
        return app_run(self.to[base], self.slack, targets, api_url, base)


@contextmanager
def served(url: str, api_url: str) -> Iterator[Apps]:
    """The stand-in, `loyalty-bot serve` (on the database at `url`) and the bare Bolt app
    making the same calls, each in a process of its own, warmed up (index, pools)."""
    with ExitStack() as stack:
        slack = stack.enter_context(slack_process(TOKEN, MANAGER))
        bot = stack.enter_context(serve(bot_env(slack.url, api_url, url)))
        bolt = stack.enter_context(
            script_process(
                "bare_bolt.py",
                *("--slack-api-url", slack.url + "/api/", "--prompt-acks"),
                *("--loyalty-api", api_url),
                ready="/healthz",
                as_deployed=True,
            )
        )
        http = stack.enter_context(with_linear_pool(sender(IN_FLIGHT, timeout=30)))
        to = {base: SlackRequests(base, SECRET, slack.standin, http=http) for base in (bot, bolt)}
        customers = sorted(balances(api_url))
        for requests in to.values():
            run_changes(requests, slack, customers[:WARM_UP], api_url)
        yield Apps(slack, bot, bolt, to, customers)


def bound_by_the_api(database_url: str | None, changes: int, latency: float) -> list[Round]:
    """ROUNDS rounds when every Smart Passes answer takes `latency` s (as over the
    internet): in a fresh database and sandbox, every reply, balance and audit entry
    checked as in the main run."""
    with ExitStack() as stack:
        url = stack.enter_context(database(database_url))
        api_url = stack.enter_context(sandbox_process("1000", latency=latency))
        apps = stack.enter_context(served(url, api_url))
        spread = [apps.customers[i % len(apps.customers)] for i in range(changes)]
        rounds = []
        for _ in range(ROUNDS):  # the bot, the bare Bolt app, then the bare client, in turn
            bot = apps.run(apps.bot, spread, api_url)
            bolt = apps.run(apps.bolt, spread, api_url)
            rounds.append(Round(bot, bolt, bare_rate(api_url, spread)))
        check_entries(url, WARM_UP + ROUNDS * len(spread))
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


def rate_rows(
    rounds: list[Round], what: str, suffix: str = ""
) -> tuple[float, list[tuple[str, str, str]]]:
    """The median round's bot-over-bare-client ratio (the verdict), and the table's rows
    for `rounds`: each app's changes/s, the ratios between them and their CPU per change."""
    over_bare = [r.bot.rate / r.bare.rate for r in rounds]
    over_bolt = [r.bot.rate / r.bolt.rate for r in rounds]
    bolt_over_bare = [r.bolt.rate / r.bare.rate for r in rounds]
    cpu = " / ".join(
        f"{median(getattr(r, app).cpu for r in rounds):.2f}" for app in ("bot", "bolt", "bare")
    )
    rows = [
        (
            f"changes/s, {what}: bot / bare Bolt app / bare client",
            ", ".join(f"{r.bot.rate:.0f} / {r.bolt.rate:.0f} / {r.bare.rate:.0f}" for r in rounds),
            "—",
        ),
        (
            f"bot over the bare client{suffix}",
            f"{median(over_bare):.2f}x ({spread(over_bare, 'x')})",
            f">= {RATIO_TARGET}x",
        ),
        (
            f"  Slack and Bolt: the bare Bolt app over the bare client{suffix}",
            f"{median(bolt_over_bare):.2f}x ({spread(bolt_over_bare, 'x')})",
            "—",
        ),
        (
            f"  the bot's own work: the bot over the bare Bolt app{suffix}",
            f"{median(over_bolt):.2f}x ({spread(over_bolt, 'x')})",
            "—",
        ),
        (f"CPU ms per change{suffix}: bot / bare Bolt app / bare client", cpu, "—"),
    ]
    return median(over_bare), rows


_AT_MOST = (("bot", "the bot"), ("bolt", "a bare Bolt app"))


def ceilings(rounds: list[Round], app: str) -> list[float]:
    """Each round's changes/s for `app` that would keep every CPU of this machine busy at
    its machine CPU per change, over the bare client's changes/s."""
    return [getattr(r, app).ceiling() / r.bare.rate for r in rounds]


def ceiling_rows(rounds: list[Round], suffix: str) -> list[tuple[str, str, str]]:
    """What this machine's CPUs allow (the API run's rounds: no lock sampler beside the
    bot): the whole machine's CPU per change for each app, and `ceilings`."""
    machine = " / ".join(
        f"{median(getattr(r, app).machine for r in rounds):.2f}" for app in ("bot", "bolt", "bare")
    )
    figure = f"machine CPU ms per change{suffix}: bot / bare Bolt app / bare client (+ start)"
    rows = [(figure, machine, "—")]
    for app, name in _AT_MOST:
        at_most = ceilings(rounds, app)
        figure = f"at most on {os.cpu_count()} CPUs, {name} over the bare client{suffix}"
        rows.append((figure, f"{median(at_most):.2f}x ({spread(at_most, 'x')})", "—"))
    return rows


def report_ceilings(rounds: list[Round], suffix: str) -> None:
    """`ceilings`' medians, into `dev.py bench`'s table (no targets)."""
    for app, name in _AT_MOST:
        record(
            f"at most on {os.cpu_count()} CPUs: {name}'s changes/s over the bare client's{suffix}",
            median(ceilings(rounds, app)),
            "x",
        )


def report_breakdown(rounds: list[Round], suffix: str) -> None:
    """Where the bot's ratio goes, into `dev.py bench`'s table (no targets): the median
    round's ratios between the three, and each one's median CPU per change."""
    record(
        f"Slack and Bolt: a bare Bolt app's changes/s over the bare client's{suffix}",
        median(r.bolt.rate / r.bare.rate for r in rounds),
        "x",
    )
    record(
        f"the bot's own work: its changes/s over the bare Bolt app's{suffix}",
        median(r.bot.rate / r.bolt.rate for r in rounds),
        "x",
    )
    for app, name in (
        ("bot", "the bot"),
        ("bolt", "the bare Bolt app"),
        ("bare", "the bare client"),
    ):
        record(f"CPU per change, {name}{suffix}", median(getattr(r, app).cpu for r in rounds), "ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--changes", type=int, default=400)
    parser.add_argument("--database", default=os.environ.get("LOYALTY_TEST_DATABASE_URL"))
    args = parser.parse_args()
    kind = "PostgreSQL" if args.database else "SQLite"
    rounds: list[Round] = []
    lock_rounds: list[list[float]] = []
    with ExitStack() as stack:
        url = stack.enter_context(database(args.database))
        api_url = stack.enter_context(sandbox_process("1000"))
        apps = stack.enter_context(served(url, api_url))
        customers = apps.customers
        targets = [customers[i % len(customers)] for i in range(args.changes)]
        for _ in range(ROUNDS):  # the bot (the lock sampled meanwhile), the bare Bolt app,
            locker = LockSampler(url, LOCK_SAMPLES)  # then the bare client
            bot = apps.run(apps.bot, targets, api_url)
            all_locks, under_load = locker.samples()
            assert under_load >= LOCK_SAMPLES, f"only {under_load} lock samples under load"
            lock_rounds.append(all_locks[:under_load])
            bolt = apps.run(apps.bolt, targets, api_url)
            rounds.append(Round(bot, bolt, bare_rate(api_url, targets)))
        one = [customers[0]] * (args.changes // 4)
        one_rate = run_changes(apps.to[apps.bot], apps.slack, one, api_url)
        check_entries(url, WARM_UP + ROUNDS * len(targets) + len(one))
        writes = record_first_latency(url, 500)

    api_rounds = bound_by_the_api(args.database, args.changes, REALISTIC_API_SECONDS)
    ratio, rows = rate_rows(rounds, f"{args.changes} over 1,000 customers")
    api = f", API {REALISTIC_API_SECONDS:g} s"
    api_ratio, api_rows = rate_rows(api_rounds, api.removeprefix(", "), api)
    lock_p99, lock_p99s = median_round(lock_rounds)
    lock_p50, _ = median_round(lock_rounds, 50)
    fewest = min(map(len, lock_rounds))
    target = f"< {LOCK_TARGET_MS:.0f} ms" if kind == "PostgreSQL" else "(PostgreSQL only)"
    rows += [
        (f"changes/s, {len(one)} to one customer", f"{one_rate:,.0f}", "—"),
        (f"lock take + release under load, p50 (>= {fewest:,} a round)", f"{lock_p50:.2f} ms", ""),
        (
            f"lock take + release under load, p99 (>= {fewest:,} a round)",
            f"{lock_p99:.2f} ms ({spread(lock_p99s)})",
            target,
        ),
        ("intent + completion writes, p50", f"{percentile(writes, 50):.2f} ms", ""),
        ("intent + completion writes, p99", f"{percentile(writes, 99):.2f} ms", ""),
        *api_rows,
        *ceiling_rows(api_rounds, api),
    ]
    print(
        f"\nPoints changes through one `serve` process, {kind}; the sandbox answering at once "
        f"(every process on this machine's CPUs), then after {REALISTIC_API_SECONDS:g} s. "
        f"{ROUNDS} rounds each, the bot, the bare Bolt app and the bare client in turn: a "
        "verdict is the median round's, each round's in brackets."
    )
    print("Every reply was its customer's receipt, every balance was exact, every entry ok.\n")
    print(f"| {'figure':<66} | {'measured':>30} | target |")
    print(f"|{'-' * 68}|{'-' * 32}|--------|")
    for figure, measured, goal in rows:
        print(f"| {figure:<66} | {measured:>30} | {goal} |")
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
    for name, runs in (("", rounds), (api, api_rounds)):
        report_breakdown(runs, name)
    report_ceilings(api_rounds, api)
    return exit_status(not missed, "; ".join(missed))


if __name__ == "__main__":
    sys.exit(main())
