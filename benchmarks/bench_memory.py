"""Memory of one serving instance, as deployed: the PSS of every process it runs.

Run by hand: `.venv/bin/python benchmarks/bench_memory.py [--customers 0,100000,300000]
[--server gunicorn|serve]`.

The bot runs as the Procfile runs it (its `release:` step, then its `web:` line: gunicorn,
its master and workers), or as `loyalty-bot serve`; every process under it counts: each worker's index builder and any
other helper. PSS (proportional set size, from /proc/PID/smaps_rollup) splits pages the
processes share between them, so the sum is what the instance takes from the machine; to
it are added the files its index builders keep in memory (/dev/shm: the list and the
tables crossing between a serving process and its builder), which no process's PSS
holds while they are read and written rather than mapped. At 100,000 customers the peak's
parts are recorded too: the serving processes, gunicorn's master, the index builders and
the files.

For each size, the sandbox holds that many generated customers (answering at once) and the
Slack stand-in runs in its own process. Lookups are sent until every worker has loaded its
customer index (each lookup's answer checked: the right customer); then the instance is
sampled while idle (no request, no build under way), and then while it rebuilds its index (LOYALTY_LOOKUP_TTL short, a
lookup every 0.25 s), for at least two rebuilds, every 20 ms. Target (issue 28, item 3):
at 100,000 customers, at most 150 MB for the instance, idle and at the rebuild's peak.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from contextlib import ExitStack, suppress
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks._support import (
    SERVERS,
    balances,
    bot_env,
    check,
    exit_status,
    record,
    sandbox_process,
    serve,
    slack_process,
)
from bot.core.index.builder import MEMORY_FILES, PREFIX
from bot.offline.slack_requests import SlackRequests

SECRET, TOKEN, MANAGER = "bench-secret", "xoxb-bench", "UBENCH"
TARGET_MB, TARGET_AT = 150.0, 100_000
TTL_SECONDS = 6.0  # the rebuild phase's LOYALTY_LOOKUP_TTL (idle: none due meanwhile)
IDLE_SECONDS = 3.0
SAMPLE_EVERY = 0.02


def processes() -> dict[int, tuple[int, str]]:
    """Every process on the machine: pid -> (parent pid, command line)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:  # it ended meanwhile
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        found[int(entry)] = (parent, cmdline)
    return found


def instance(port: int) -> list[int]:
    """The serving process(es) listening on `port` and every process under them."""
    table = processes()
    roots = {  # not the benchmark's own scripts (their arguments may name the port)
        pid for pid, (_, cmd) in table.items() if f":{port}" in cmd and "benchmarks/" not in cmd
    }
    tops = {pid for pid in roots if table[pid][0] not in roots}
    members, frontier = set(tops), list(tops)
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, (ppid, _) in table.items() if ppid == parent]
        members.update(children)
        frontier += children
    return sorted(members)


def pss_mb(pids: list[int]) -> dict[str, float]:
    """The PSS of these processes by what each is (the serving processes' parent: gunicorn's
    master; the index builders; the serving processes), and the size of the files in
    memory they made."""
    table = processes()
    parts = dict.fromkeys(PARTS, 0.0)
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    parts[part_of(pid, pids, table)] += int(line.split()[1]) / 1024
                    break
        except OSError:  # it ended meanwhile
            continue
    parts["memory files"] = memory_files_mb(pids)
    return parts


PARTS = ("master", "serving", "builders", "memory files")


def part_of(pid: int, pids: list[int], table: dict[int, tuple[int, str]]) -> str:
    parent, command = table.get(pid, (0, ""))
    if BUILDER in command:
        return "builders"
    has_children = any(table.get(other, (0, ""))[0] == pid for other in pids)
    if parent not in pids and has_children and "gunicorn" in command:
        return "master"
    return "serving"


def memory_files_mb(pids: list[int]) -> float:
    """The index builders' files in memory (named by the serving process's id)."""
    try:
        names = os.listdir(MEMORY_FILES)
    except OSError:  # no file system in memory: nothing crosses in files
        return 0.0
    prefixes = tuple(f"{PREFIX}{pid}-" for pid in pids)
    total = 0
    for name in names:
        if name.startswith(prefixes):
            with suppress(OSError):  # removed meanwhile
                total += os.stat(os.path.join(MEMORY_FILES, name)).st_blocks * 512
    return total / 2**20


Sample = tuple[float, float, int, dict[str, float]]


def sample(port: int, seconds: float) -> Sample:
    """PSS of the whole instance every SAMPLE_EVERY for `seconds`: (median, peak, the
    most processes seen at once, the peak's parts)."""
    sums: list[tuple[float, dict[str, float]]] = []
    most = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pids = instance(port)
        most = max(most, len(pids))
        parts = pss_mb(pids)
        sums.append((sum(parts.values()), parts))
        time.sleep(SAMPLE_EVERY)  # the sampling period, not a wait for the bot
    sums.sort(key=lambda taken: taken[0])
    return sums[len(sums) // 2][0], sums[-1][0], most, sums[-1][1]


def described(parts: dict[str, float]) -> str:
    return ", ".join(f"{name} {mb:.1f}" for name, mb in parts.items() if mb)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", default="0,100000,300000")
    parser.add_argument("--server", choices=SERVERS, default="gunicorn")
    args = parser.parse_args()
    verdicts = []
    print(
        f"| customers ({args.server}) | processes | idle PSS | rebuild peak PSS "
        "| the peak's parts (MB) |"
    )
    print("|---|---|---|---|---|")
    for size in (int(n) for n in args.customers.split(",")):
        idle, peak, count, parts = measure(size, args.server)
        print(
            f"| {size:,} | {count} | {idle:.1f} MB | {peak:.1f} MB | {described(parts)} |",
            flush=True,
        )
        if size == TARGET_AT:
            where = f"[{size:,}, {args.server}]"
            verdicts += [
                check(f"instance PSS, idle {where}", idle, TARGET_MB, "MB"),
                check(f"instance PSS, rebuild peak {where}", peak, TARGET_MB, "MB"),
            ]
            for name, mb in parts.items():  # where the peak's memory is
                record(f"rebuild peak: {name} {where}", mb, "MB")
    return exit_status(all(verdicts))


def measure(size: int, server: str) -> tuple[float, float, int, dict[str, float]]:
    with ExitStack() as stack:
        api_url = stack.enter_context(sandbox_process(str(size)))
        slack = stack.enter_context(slack_process(TOKEN, MANAGER))
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        env = bot_env(
            slack.url, api_url, f"sqlite:///{tmp}/bot.db", LOYALTY_LOOKUP_TTL=str(TTL_SECONDS)
        )
        bot = stack.enter_context(serve(env, server=server))
        port = int(urlsplit(bot).port or 0)
        http = stack.enter_context(httpx.Client(timeout=60))
        requests = SlackRequests(bot, SECRET, slack.standin, http=http)
        customers = sorted(balances(api_url)) or [1]
        lookups = Lookups(requests, slack, customers, expect_found=size > 0)
        # Until every worker has built its index once (each build starts a builder
        # child under its worker: seen by a watch every 20 ms), then as many lookups again.
        deadline = time.monotonic() + 120
        with BuildersSeen(port) as seen:
            while len(seen.parents) < workers(server) and time.monotonic() < deadline:
                lookups.burst(4)
        if len(seen.parents) < workers(server):
            raise SystemExit(f"only {len(seen.parents)} worker(s) built an index in 120 s")
        lookups.burst(len(lookups.sent))
        while builders(port) and time.monotonic() < deadline:  # a rebuild still under way
            time.sleep(SAMPLE_EVERY)  # polling other processes: there is no event to wait for
        idle = sample(port, IDLE_SECONDS)
        stop = threading.Event()
        sender = threading.Thread(target=lookups.steadily, args=(stop, 0.25))
        sender.start()
        try:
            rebuilding = sample(port, 2.5 * TTL_SECONDS)
        finally:
            stop.set()
            sender.join()
        lookups.check()
    peak = max(idle, rebuilding, key=lambda taken: taken[1])
    return idle[0], peak[1], max(idle[2], rebuilding[2]), peak[3]


def workers(server: str) -> int:
    """The processes serving requests: gunicorn's workers (the Procfile's default), or one."""
    if server != "gunicorn":
        return 1
    procfile = (Path(__file__).resolve().parent.parent / "Procfile").read_text()
    default = procfile.split("WEB_CONCURRENCY:-", 1)[1].split("}", 1)[0]
    return int(os.environ.get("WEB_CONCURRENCY", default))


BUILDER = "bot.core.index.builder_child"  # the index builder child's command line


def builders(port: int) -> int:
    table = processes()
    return sum(1 for pid in instance(port) if BUILDER in table[pid][1])


class BuildersSeen:
    """The serving processes that started an index builder child while it watched."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.parents: set[int] = set()
        self._stop = threading.Event()
        self._watch = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY):
            table = processes()
            self.parents |= {table[p][0] for p in instance(self.port) if BUILDER in table[p][1]}

    def __enter__(self) -> BuildersSeen:
        self._watch.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._watch.join()


class Lookups:
    """`/loyalty customer <id>` commands, each answer checked to name its customer."""

    def __init__(
        self, requests: SlackRequests, slack, customers: list[int], *, expect_found: bool
    ) -> None:
        self.requests, self.slack, self.customers = requests, slack, customers
        self.expect_found = expect_found
        self.sent: dict[str, int] = {}
        self.next = 0

    def one(self) -> None:
        cid = self.customers[self.next % len(self.customers)]
        self.next += 1
        body = self.requests.command_body(f"customer {cid}", user=MANAGER, channel="C1")
        self.sent[parse_qs(body)["response_url"][0]] = cid
        assert self.requests.signed_post(body).status_code == 200

    def burst(self, count: int) -> None:
        threads = [threading.Thread(target=self.one) for _ in range(count)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.slack.wait("response_url", count=len(self.sent), timeout=120)

    def steadily(self, stop: threading.Event, every: float) -> None:
        while not stop.wait(every):
            self.one()

    def check(self) -> None:
        calls = self.slack.wait("response_url", count=len(self.sent), timeout=120)
        for call in calls:
            cid = self.sent.get(call["args"].get("_url", ""))
            if cid is None:
                continue
            text = str(call["args"].get("text", ""))
            found = f"#{cid}" in text or str(cid) in str(call["args"].get("blocks", ""))
            assert found == self.expect_found, f"customer {cid}: {text[:120]}"


if __name__ == "__main__":
    sys.exit(main())
