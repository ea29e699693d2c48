"""Shared helpers for the benchmarks: a sandbox in its own process, percentiles, peak RSS,
and `check()`, which records a figure against its target for `python3 dev.py bench`."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import resource
import shlex
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bot.offline.sandbox import DEMO_APP_KEY, DEMO_PROGRAM_ID
from bot.offline.slack_standin import SlackStandIn, SlackUser

REPORT = "LOYALTY_BENCH_REPORT"  # a file where `check()` appends one JSON line per figure
LABEL = "LOYALTY_BENCH_LABEL"  # added to each figure's name (the run's size, say)
# A benchmark's exit status when it ran to the end and a figure missed its target (its
# figures are in the report); any other failing status means the run itself broke.
MISSED = 3


def exit_status(passed: bool, why: str = "") -> int:
    """0, or MISSED after saying `why` (the figures themselves are recorded by `check`)."""
    if not passed and why:
        print(why, file=sys.stderr, flush=True)
    return 0 if passed else MISSED


def check(
    figure: str, measured: float, target: float, unit: str, *, at_least: bool = False
) -> bool:
    """Record `measured` against `target` (below it, or with `at_least`, at or above it):
    True if it passes. `python3 dev.py bench` prints every recorded figure in one table."""
    passed = measured >= target if at_least else measured < target
    _report(figure, measured, f"{'>=' if at_least else '<'} {target:g} {unit}", unit, passed)
    return passed


def record(figure: str, measured: float, unit: str) -> None:
    """Record a figure with no target of its own (where a verdict's figure goes), for the
    same table."""
    _report(figure, measured, "—", unit, None)


def _report(figure: str, measured: float, target: str, unit: str, passed: bool | None) -> None:
    if label := os.environ.get(LABEL):  # which run of several (`dev.py bench`: a size)
        figure = f"{figure} [{label}]"
    path = os.environ.get(REPORT)
    if path:
        line = {
            "benchmark": Path(sys.argv[0]).stem,
            "figure": figure,
            "measured": measured,
            "target": target,
            "unit": unit,
            "passed": passed,
        }
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")


def cpu_split() -> tuple[set[int], set[int]]:
    """The CPUs for the app under test, and the rest (the client and the stand-ins for
    what runs elsewhere in production: Slack, Smart Passes): the app's own, as on its
    host; both the same on a single-CPU machine."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return set(cpus), set(cpus)
    return {cpus[0]}, set(cpus[1:])


def pin(pid: int, cpus: set[int] | None, nice: int = 0) -> None:
    """Run process `pid` (and the threads and children it starts from now on) on `cpus`,
    at `nice` (above 0: the others on those CPUs come first)."""
    if cpus:
        os.sched_setaffinity(pid, cpus)
    if nice:
        os.setpriority(os.PRIO_PROCESS, pid, nice)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def sandbox_process(
    data: str, latency: float = 0.0, *extra: str, cpus: set[int] | None = None, nice: int = 0
) -> Iterator[str]:
    """Run `loyalty-bot sandbox` in a child process so its memory is not counted as ours
    (on `cpus`, at `nice`, if given: see `pin`)."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot",
            "sandbox",
            "--port",
            str(port),
            "--data",
            data,
            "--latency",
            str(latency),
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pin(proc.pid, cpus, nice)
    base = f"http://127.0.0.1:{port}/api/v1/loyalty/"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                httpx.get(base, timeout=latency + 5)  # it answers after `latency`
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@dataclass
class RemoteSlack:
    """The Slack stand-in running in its own process (benchmarks/slack_process.py).
    `standin` is a local one pointing there, for building requests (SlackRequests)."""

    url: str
    standin: SlackStandIn

    def calls(self, method: str) -> list[dict[str, Any]]:
        """Every call so far: {"args": ..., "at": the stand-in's monotonic clock}."""
        return httpx.get(f"{self.url}/_bench/calls/{method}", timeout=60).json()

    def open_view(self, view_id: str, view: dict[str, Any]) -> None:
        """A modal as Slack holds it once opened, here and there."""
        self.standin.views[view_id] = view
        httpx.put(f"{self.url}/_bench/views/{view_id}", json=view, timeout=30).raise_for_status()

    def wait(self, method: str, count: int, timeout: float = 300) -> list[dict[str, Any]]:
        response = httpx.get(
            f"{self.url}/_bench/wait/{method}",
            params={"count": count, "timeout": timeout},
            timeout=timeout + 30,
        )
        if response.status_code != 200:
            raise TimeoutError(response.text)
        return response.json()


class Replies:
    """The replies to response URLs as they reach the Slack stand-in, each handed to the
    one sender waiting for it: one thread here long-polls the stand-in for the replies
    after those it has seen (a wait per sender would have the stand-in scan its calls for
    each of them at every reply, taking the CPU the bot is measured on), on one kept
    connection (a client per poll, as `httpx.get`, builds a TLS context each time)."""

    def __init__(self, slack: RemoteSlack) -> None:
        self._slack = slack
        self._http = httpx.Client(timeout=60)
        self._seen = len(slack.calls("response_url"))
        self._waiting: dict[str, tuple[threading.Event, list[str]]] = {}
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def expect(self, url: str) -> Callable[[float], str]:
        """Before sending a command with response URL `url`: the wait for its reply's
        text (TimeoutError if none comes in time)."""
        came, text = threading.Event(), []
        with self._lock:
            self._waiting[url] = (came, text)

        def reply(timeout: float) -> str:
            if not came.wait(timeout):
                raise TimeoutError(f"no reply to {url} within {timeout} s")
            return text[0]

        return reply

    def _collect(self) -> None:
        while not self._stopped.is_set():
            response = self._http.get(
                f"{self._slack.url}/_bench/wait/response_url",
                params={"count": self._seen + 1, "from": self._seen, "timeout": 1},
                timeout=60,
            )
            if response.status_code != 200:  # none within the second: look again
                continue
            calls = response.json()
            self._seen += len(calls)
            for call in calls:
                with self._lock:
                    came, text = self._waiting.pop(call["args"].get("_url", ""), (None, []))
                if came is not None:
                    text.append(str(call["args"].get("text", "")))
                    came.set()

    def close(self) -> None:
        self._stopped.set()
        self._thread.join()
        self._http.close()


@contextlib.contextmanager
def script_process(
    script: str,
    *args: str,
    ready: str,
    cpus: set[int] | None = None,
    nice: int = 0,
    as_deployed: bool = False,
) -> Iterator[str]:
    """`benchmarks/<script>` serving on a free port (`--port`) in a child process, on
    `cpus` at `nice` if given (see `pin`), from the deployed environment if `as_deployed`
    (a floor the bot is compared with: `deployed`); yields its base URL once `ready` (a
    path) answers 200."""
    port = free_port()
    path = str(Path(__file__).with_name(script))
    python = str(deployed() / "python") if as_deployed else sys.executable
    proc = subprocess.Popen(
        [python, path, "--port", str(port), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pin(proc.pid, cpus, nice)
    url = f"http://127.0.0.1:{port}"
    SERVING[url] = proc.pid
    try:
        wait_up(url + ready)
        yield url
    finally:
        del SERVING[url]
        proc.terminate()
        proc.wait(timeout=30)


@contextlib.contextmanager
def slack_process(
    token: str,
    *users: str,
    cpus: set[int] | None = None,
    nice: int = 0,
    extra: tuple[str, ...] = (),
) -> Iterator[RemoteSlack]:
    """The Slack stand-in in a child process: its work (the bot's replies and Web API
    calls) never takes the measuring client's interpreter. `extra`: more of its options
    (`--people 1000`, `--slow users.info=4`)."""
    user_args = [arg for user in users for arg in ("--user", user)]
    with script_process(
        "slack_process.py",
        "--token",
        token,
        *user_args,
        *extra,
        ready="/_bench/calls/none",
        cpus=cpus,
        nice=nice,
    ) as url:
        local = SlackStandIn(token=token, users=[SlackUser(u, u.lower(), u) for u in users])
        local.base_url = url
        yield RemoteSlack(url, local)


def sender(max_connections: int, timeout: float = 60) -> httpx.Client:
    """The client's connections to an app, as Slack would hold them: idle ones are let go
    after 1 s, before gunicorn closes its side (its keep-alive is 2 s), so a request is
    never sent on a connection the server is closing (it would be lost without an answer,
    and counted against the app). Every connection may be kept: httpcore's sync pool,
    closing a surplus idle connection, can close one it has just handed to a waiting
    thread (encode/httpcore#1110: a read on a closed socket, EBADF), so give a client at
    least as many connections as threads sending on it."""
    return httpx.Client(
        timeout=timeout,
        limits=httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=1.0,
        ),
    )


def wait_up(url: str, seconds: float = 60) -> None:
    """Until `url` answers 200 (a child process has started serving)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)  # polling a child process's port: there is no event to wait for


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    k = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def median_round(rounds: list[list[float]], pct: float = 99) -> tuple[float, list[float]]:
    """The verdict's figure: the median of the rounds' `pct` percentiles, and each round's
    (printed beside it: the spread)."""
    each = [percentile(r, pct) for r in rounds]
    return statistics.median(each), each


# The process serving each base URL that `serve` and `script_process` yield (with
# `server="gunicorn"`: the shell that execs gunicorn's master, so the master itself).
SERVING: dict[str, int] = {}


def cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) process `pid` has used so far, its own threads only
    (Linux: /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """The CPU time every process on this machine has used so far, its CPUs together
    (Linux: /proc/stat's user, nice, system, irq and softirq; not idle, I/O wait or time
    stolen by a hypervisor)."""
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq = map(int, stat.readline().split()[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def rss_mb() -> float:
    """This process's resident memory now (Linux), in MB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


SERVERS = ("serve", "gunicorn")  # `loyalty-bot serve`, or the Procfile's `web:` line


BOT_WSGI = "'bot.runtime.wsgi:create()'"


@functools.cache
def deployed() -> Path:
    """The scripts' directory of an environment holding what a platform installs
    (requirements.txt: the bot and PostgreSQL's driver, none of the test tools; made by
    dev.py on first use), which the served bot runs from: the process as deployed. The
    test tools would add to it (httpx imports its command line's rich, click and pygments
    when they are installed)."""
    import dev

    return dev.ensure_venv(dev.DEPLOYED, "postgres")


def procfile_web(port: int, app: str = BOT_WSGI) -> list[str]:
    """The Procfile's `web:` command for `port`, as a shell runs it (the deployed server:
    gunicorn with the Procfile's workers and threads), serving `app` (another WSGI
    factory, served the same way: a bare Bolt app)."""
    procfile = Path(__file__).resolve().parent.parent / "Procfile"
    line = next(x for x in procfile.read_text().splitlines() if x.startswith("web:"))
    gunicorn = str(deployed() / "gunicorn")
    command = line.removeprefix("web:").strip().replace("gunicorn", gunicorn, 1)
    assert BOT_WSGI in command, "the Procfile serves the bot's WSGI factory"
    return ["bash", "-c", f"PORT={port}; exec {command.replace(BOT_WSGI, app)}"]


def procfile_release(env: dict[str, str]) -> None:
    """The Procfile's `release:` step, as a platform runs it before starting the web
    processes of a new version (the database upgraded, so they start at its schema)."""
    procfile = Path(__file__).resolve().parent.parent / "Procfile"
    line = next(x for x in procfile.read_text().splitlines() if x.startswith("release:"))
    command = shlex.split(line.removeprefix("release:").strip())
    command[0] = str(deployed() / command[0])
    released = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    if released.returncode:
        raise SystemExit(f"the Procfile's release step failed: {released.stderr.strip()}")


@contextlib.contextmanager
def serve(
    env: dict[str, str],
    cpus: set[int] | None = None,
    server: str = "serve",
    app: str = BOT_WSGI,
) -> Iterator[str]:
    """The bot in child processes (their own interpreters, as in production, from the
    deployed environment: `deployed`): `loyalty-bot serve`, or with `server="gunicorn"` the Procfile's release step and then its web
    command (gunicorn, its workers and threads; serving `app` instead of the bot if given);
    on `cpus` if given (from the start: workers and index builders too)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    if server == "gunicorn" and app == BOT_WSGI:
        procfile_release(env)
    command = (
        procfile_web(port, app)
        if server == "gunicorn"
        else [
            str(deployed() / "python"),
            *("-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)),
        ]
    )
    proc = subprocess.Popen(
        command,
        cwd=Path(__file__).resolve().parent.parent,  # where gunicorn finds `benchmarks`
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(os.environ["BENCH_SERVE_LOG"], "w")  # noqa: SIM115
        if os.environ.get("BENCH_SERVE_LOG")
        else subprocess.DEVNULL,
        preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
    )
    SERVING[base] = proc.pid
    try:
        wait_up(base + "/healthz")
        yield base
    finally:
        del SERVING[base]
        proc.terminate()
        proc.wait(timeout=60)


def customer_records(api_url: str) -> list[dict[str, Any]]:
    """Every customer as the Loyalty API holds it now."""
    response = httpx.get(
        f"{api_url}programs/{DEMO_PROGRAM_ID}/customers",
        headers={"Authorization": DEMO_APP_KEY},
        timeout=120,
    )
    return response.json()


def balances(api_url: str) -> dict[int, int]:
    """Every customer's points, straight from the Loyalty API."""
    return {c["id"]: c["points"] for c in customer_records(api_url)}


def bot_env(slack_url: str, api_url: str, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a benchmarked `loyalty-bot serve` (manager UBENCH)."""
    return {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": "bench-secret",
        "SLACK_API_URL": slack_url + "/api/",
        "SMARTPASSES_APP_KEY": DEMO_APP_KEY,
        "SMARTPASSES_PROGRAM_ID": str(DEMO_PROGRAM_ID),
        "SMARTPASSES_BASE_URL": api_url,
        "LOYALTY_MANAGERS": "UBENCH",
        "DATABASE_URL": database_url,
        **extra,
    }
