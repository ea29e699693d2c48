"""Drive the real Bolt app the way Slack does: signed HTTP requests over loopback, with the
Slack Web API stand-in and the Loyalty API sandbox on loopback too."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from bot.core.ledger import Ledger
from bot.domain.settings import Settings
from bot.offline.requests_done import RequestsDone, counting_requests
from bot.offline.sandbox import DEMO_APP_KEY, DEMO_PROGRAM_ID, SandboxApp
from bot.offline.sandbox.data import SECOND_PROGRAM_ID
from bot.offline.slack_requests import SlackRequests
from bot.offline.slack_standin import SlackCall, SlackStandIn, SlackUser
from bot.runtime.app import WORK_QUEUED, WORK_THREADS, create_served_app, slack_client
from bot.runtime.wsgi_server import serving
from bot.smartpasses.client import LoyaltyClient
from bot.store.database import Store
from bot.store.locks import locks_for
from handlers.steps import STEPS
from handlers.web import health, web_app
from handlers.workpool import WorkPool

# One TLS context for every HTTP client the tests make (loading the CA bundle takes
# ~40 ms per client; everything here is plain HTTP on loopback anyway).
TLS = ssl.create_default_context()
SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
TEAM = "T0LOYALTY"
MANAGER, GROUP_MANAGER, CLERK = "UMANAGER", "UGROUPMGR", "UCLERK"
GERENTE, CAJERA = "UGERENTE", "UCAJERA"  # Spanish-speaking (their Slack locale is es-MX)
CHANNEL = "CSHOP"

USERS = [
    SlackUser(MANAGER, "marta", "Marta Manager", "marta@shop.example"),
    SlackUser(GROUP_MANAGER, "gabo", "Gabo Group", "gabo@shop.example"),
    SlackUser(CLERK, "carl", "Carl Clerk", "carl@shop.example"),
    SlackUser("UJUAN", "juan", "Juan Pérez", "juan.perez@example.com"),
    SlackUser("UNOMAIL", "ghost", "No Email", ""),
    SlackUser(GERENTE, "rocio", "Rocío Gerente", "rocio@shop.example", locale="es-MX"),
    SlackUser(CAJERA, "lupita", "Lupita Cajera", "lupita@shop.example", locale="es-MX"),
]


def make_settings(
    sandbox_url: str, slack_url: str, database_url: str, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack_url + "/api/",
        "smartpasses_app_key": DEMO_APP_KEY,
        "smartpasses_program_id": DEMO_PROGRAM_ID,
        "smartpasses_base_url": sandbox_url,
        "smartpasses_timeout": 5,
        "loyalty_managers": [MANAGER],
        "loyalty_manager_group": "SMANAGERS",
        "loyalty_earn_per_amount": 10,  # the test shop: 1 point per 10 MXN
        "database_url": database_url,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@dataclass
class Harness:
    slack: SlackStandIn
    sandbox: SandboxApp
    store: Store
    settings: Settings
    url: str
    http: httpx.Client
    done: RequestsDone
    sent: int = 0  # requests the bot took (HTTP 200), each ending in one request line
    _taken: int = 0
    team: str = TEAM  # the workspace the requests come from
    work: WorkPool | None = None  # the work after acks (single-workspace bots)
    services: Any = None  # handlers.context.Services (single-workspace bots)

    def _took(self, response: httpx.Response) -> httpx.Response:
        if response.status_code == 200:
            self.sent += 1
        return response

    def settle(self, timeout: float = 15) -> None:
        """Wait until every request sent so far has finished all its work (each writes
        its request log line when it has)."""
        if not self.done.wait_for(self.sent, timeout):
            raise TimeoutError(f"{self.sent - self.done.count} request(s) still at work")

    # -- requests as Slack sends them (signed, through Bolt's verification) -------------

    @property
    def requests(self) -> SlackRequests:
        return SlackRequests(
            self.url, SIGNING_SECRET, self.slack, team_id=self.team, http=self.http
        )

    def command(
        self, text: str, *, user: str = MANAGER, channel: str = CHANNEL, **signing: Any
    ) -> httpx.Response:
        return self._took(self.requests.command(text, user=user, channel=channel, **signing))

    def click(
        self,
        button: dict[str, Any],
        *,
        user: str = MANAGER,
        channel: str = CHANNEL,
        message: dict[str, Any] | None = None,
    ) -> httpx.Response:
        return self._took(self.requests.click(button, user=user, channel=channel, message=message))

    def click_in_view(
        self, view_id: str, button: dict[str, Any], *, user: str = MANAGER
    ) -> httpx.Response:
        return self._took(self.requests.click_in_view(view_id, button, user=user))

    def click_in_home(self, button: dict[str, Any], *, user: str = MANAGER) -> httpx.Response:
        return self._took(self.requests.click_in_home(button, user=user))

    def options(
        self, view_id: str, block_id: str, typed: str, *, user: str = MANAGER
    ) -> httpx.Response:
        return self._took(self.requests.options(view_id, block_id, typed, user=user))

    def submit(
        self, view_id: str, values: dict[str, Any], *, user: str = MANAGER
    ) -> httpx.Response:
        return self._took(self.requests.submit(view_id, values, user=user))

    def event(self, event: dict[str, Any]) -> httpx.Response:
        return self._took(self.requests.event(event))

    def shortcut(self, callback_id: str, *, user: str = MANAGER) -> httpx.Response:
        return self._took(self.requests.shortcut(callback_id, user=user))

    def message_shortcut(
        self, callback_id: str, text: str, *, user: str = MANAGER, channel: str = CHANNEL
    ) -> httpx.Response:
        message = {"text": text, "user": "UJUAN", "ts": "1700000000.000100"}
        return self._took(
            self.requests.message_shortcut(callback_id, message, user=user, channel=channel)
        )

    def step(
        self, callback_id: str, inputs: dict[str, Any], execution: tuple[str, str] | None = None
    ) -> tuple[str, Any]:
        """Run a Workflow Builder step of ours (its function_executed event; `execution`
        sends one again): how it ended, ("completed", outputs) or ("failed", why)."""
        title = next(s.title for s in STEPS if s.callback_id == callback_id)  # as declared
        response, execution_id = self.requests.step(
            callback_id, inputs, title=title, execution=execution
        )
        self._took(response)
        assert response.status_code == 200, response.text
        self.settle()
        return self.slack.step_end(execution_id)

    def answer(self, view_id: str, values: dict[str, str], *, user: str = MANAGER) -> dict:
        """Submit a form; what the person then sees in it: {"errors": …} beside the fields
        (the bot's own checks, at once), or {"view": …}, the window after "Saving…" (the
        result, the form again with what Smart Passes refused, or why nothing was done)."""

        def updates() -> list[SlackCall]:
            return [c for c in self.slack.calls_to("views.update") if c.args["view_id"] == view_id]

        seen = len(updates())
        body = self.submit(view_id, values, user=user).json()
        if body.get("response_action") == "errors":
            return {"errors": body["errors"]}
        assert body.get("response_action") == "update", body
        if "⏳" not in text_of(body["view"]):  # "⏳ Saving…", in the reader's words
            return {"view": body["view"]}  # answered at once (the bot is busy)
        self.slack.wait_for("views.update", lambda c: c.args["view_id"] == view_id, count=seen + 1)
        view = updates()[-1].args["view"]
        return {"view": json.loads(view) if isinstance(view, str) else view}

    def opened_view(self, timeout: float = 10) -> tuple[str, dict[str, Any]]:
        """The id and final content of the last modal opened (filled in, if it was opened
        loading: the request that opened it has finished its work)."""
        self.slack.wait_for("views.open", timeout=timeout)
        self.settle(timeout)
        view_id = max(self.slack.views)  # ids increase
        return view_id, self.slack.views[view_id]

    # -- what came back -----------------------------------------------------------------

    def replies(self, count: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
        """The posts to response URLs so far, waiting for at least `count`."""
        return [c.args for c in self.slack.wait_for("response_url", count=count, timeout=timeout)]

    def reply(self, timeout: float = 10) -> dict[str, Any]:
        """The next reply not yet taken, once the requests sent so far have finished (fails
        if none arrived, or if more than one did)."""
        taken = self._taken
        self.replies(taken + 1, timeout)
        self.settle(timeout)
        replies = [c.args for c in self.slack.calls_to("response_url")][taken:]
        assert len(replies) == 1, replies
        self._taken += 1
        return replies[0]

    def wait(self, method: str, count: int = 1, timeout: float = 10) -> list[SlackCall]:
        return self.slack.wait_for(method, count=count, timeout=timeout)

    def customer_points(self, customer_id: int) -> int:
        return self.sandbox.state.customer(DEMO_PROGRAM_ID, customer_id)["points"]


def text_of(reply: dict[str, Any]) -> str:
    """All the visible text of a message (its blocks' texts, or its text)."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                parts.append(node["text"])
            for value in node.values():
                if isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(reply.get("blocks") or [])
    return "\n".join(parts) if parts else reply.get("text", "")


def buttons(reply: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for block in reply.get("blocks") or []:
        if block.get("type") == "actions":
            found += [e for e in block["elements"] if e.get("type") == "button"]
        accessory = block.get("accessory")
        if accessory and accessory.get("type") == "button":
            found.append(accessory)
    return found


def button(reply: dict[str, Any], label: str) -> dict[str, Any]:
    for b in buttons(reply):
        if b["text"]["text"] == label:
            return b
    raise AssertionError(f"no button {label!r} in {[b['text']['text'] for b in buttons(reply)]}")


@contextmanager
def running_bot(
    sandbox: SandboxApp,
    sandbox_url: str,
    database_url: str,
    slack: SlackStandIn | None = None,
    work: Any = None,
    **settings: Any,
) -> Iterator[Harness]:
    """A whole bot; pass the `slack` of an earlier one to play a restart of the same app."""
    slack = slack or SlackStandIn(
        token=BOT_TOKEN, team_id=TEAM, users=USERS, usergroups={"SMANAGERS": [GROUP_MANAGER]}
    )
    with ExitStack() as stack:
        slack_url = stack.enter_context(serving(slack))
        slack.base_url = slack_url
        config = make_settings(sandbox_url, slack_url, database_url, **settings)
        store = Store.from_url(config.database_url)
        ledger = Ledger(store, locks_for(store.engine))
        stack.callback(ledger.locks.close)
        loyalty = stack.enter_context(
            LoyaltyClient.from_settings(
                config, sleep=lambda s: None, transport=httpx.HTTPTransport(verify=TLS)
            )
        )
        client = slack_client(config)  # the real one, with its retry handlers
        pool = (
            work
            if isinstance(work, WorkPool)
            else WorkPool(WORK_THREADS, WORK_QUEUED, executor=work)
        )
        app, services = create_served_app(
            config, client=client, loyalty=loyalty, store=store, ledger=ledger, work=pool
        )
        checked = lambda: health(store, loyalty)  # noqa: E731
        url = stack.enter_context(serving(web_app(app, SIGNING_SECRET, checked, pool.answering)))
        http = stack.enter_context(httpx.Client(timeout=30, verify=TLS))
        done = stack.enter_context(counting_requests())
        harness = Harness(
            slack, sandbox, store, config, url, http, done, work=pool, services=services
        )
        yield harness
        harness.settle()  # no work of this test carries on into the next
        store.engine.dispose()


def process_env(slack_url: str, sandbox_url: str, tmp_path: Any, **extra: str) -> dict[str, str]:
    """The environment for running the bot as its own process against the local fakes."""
    return {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_url + "/api/",
        "SMARTPASSES_APP_KEY": DEMO_APP_KEY,
        "SMARTPASSES_PROGRAM_ID": str(DEMO_PROGRAM_ID),
        "SMARTPASSES_BASE_URL": sandbox_url,
        "LOYALTY_MANAGERS": MANAGER,
        "LOYALTY_EARN_PER_AMOUNT": "10",  # the test shop: 1 point per 10 MXN
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        **extra,
    }


def wait_until(condition: Any, timeout: float = 15, what: str = "the condition") -> Any:
    """Poll `condition()` until it is truthy (returning it); fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout}s")
        time.sleep(0.02)
    return result


def stack_of(thread: threading.Thread) -> list[tuple[str, str]]:
    """Where `thread` is now: (file name, function) of each frame, innermost first."""
    frame, stack = sys._current_frames().get(thread.ident or 0), []
    while frame is not None:
        stack.append((os.path.basename(frame.f_code.co_filename), frame.f_code.co_name))
        frame = frame.f_back
    return stack


def run_cli(*args: str, env: dict[str, str], cwd: Any) -> subprocess.CompletedProcess:
    """`loyalty-bot ARGS` as its own process, to its end; what it printed is kept."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` different free ports: each socket is held until all are bound, so two
    processes started together never get the same one."""
    with ExitStack() as held:
        sockets = [held.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def wait_healthy(base: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            response = httpx.get(base + "/healthz")
            assert response.status_code == 200 and response.json()["ok"] is True
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextmanager
def bot_process(argv: list[str], env: dict[str, str], cwd: Any, base: str) -> Iterator[Any]:
    """Run the bot as its own process until healthy; afterwards `.output` holds what it
    printed. A test may stop it itself (SIGTERM) and check the exit code."""
    proc = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        wait_healthy(base)
        yield proc
    finally:
        proc.kill()
        proc.output = proc.stdout.read()


# -- installed in any workspace (OAuth mode) ------------------------------------------

SECOND_TEAM = "T0SECOND"
CLIENT_ID, CLIENT_SECRET = "111.222", "standin-client-secret"
OWNER, SECOND_OWNER = "UOWNER", "USECONDOWNER"  # each installs the app in its workspace
SECOND_CLERK = "USECONDCLERK"
OAUTH_USERS = [
    *USERS,
    SlackUser(
        OWNER, "olga", "Olga Owner", "olga@shop.example", is_owner=True, tz="America/Mexico_City"
    ),
    SlackUser(SECOND_OWNER, "sam", "Sam Second", "sam@second.example", team_id=SECOND_TEAM),
    SlackUser(SECOND_CLERK, "sid", "Sid Clerk", "sid@second.example", team_id=SECOND_TEAM),
]


@dataclass
class Installs:
    """A bot installed through OAuth in any number of workspaces."""

    harness: Harness
    workspaces: Any  # bot.runtime.tenants.Workspaces

    def as_team(self, team: str) -> Harness:
        """The harness sending requests from `team` (one counter of requests for all)."""
        self.harness.team = team
        return self.harness

    def install(self, team: str, user: str, language: str = "") -> httpx.Response:
        """Add to Slack, as a person does: /slack/install, Slack's Allow, the redirect
        (`language`: the browser's Accept-Language)."""
        bot = self.harness
        bot.slack.installer = (team, user)
        page = bot.http.get(bot.url + "/slack/install")  # straight on to Slack
        assert page.status_code == 302, page.text
        link = page.headers["location"]
        assert "/oauth/v2/authorize?" in link, link
        allowed = bot.http.get(link)  # Slack's page, Allow clicked: back to the bot
        assert allowed.status_code == 302, allowed.text
        # The state cookie is Secure (the bot is served over https); a browser sends it back.
        cookie = page.headers["set-cookie"].split(";", 1)[0]
        headers = {"Cookie": cookie} | ({"Accept-Language": language} if language else {})
        return bot.http.get(allowed.headers["location"], headers=headers)

    def home(self, team: str, user: str) -> dict[str, Any]:
        """The Home tab `user` sees when they open it."""
        bot = self.as_team(team)
        seen = len(bot.slack.calls_to("views.publish"))
        bot.event({"type": "app_home_opened", "user": user, "tab": "home"})
        calls = bot.slack.wait_for("views.publish", count=seen + 1)
        bot.settle()
        view = calls[-1].args["view"]
        return json.loads(view) if isinstance(view, str) else view

    def connect(self, team: str, user: str, app_key: str, program_id: int) -> dict[str, Any]:
        """Connect Smart Passes from the Home tab: what the form shows in the end (the form
        again with why, or that it is connected), or its field errors."""
        bot = self.as_team(team)
        home = self.home(team, user)
        bot.click_in_home(button(home, "Connect Smart Passes"), user=user)
        view_id, form = bot.opened_view()
        assert form["callback_id"] == "loyalty_connect_form", form
        seen = len(bot.slack.calls_to("views.update"))
        answer = bot.submit(view_id, {"app_key": app_key, "program_id": str(program_id)}, user=user)
        body = answer.json() if answer.content else {}
        if body.get("response_action") == "errors":
            return {"errors": body["errors"]}
        bot.slack.wait_for("views.update", count=seen + 1)
        bot.settle()
        view = bot.slack.calls_to("views.update")[-1].args["view"]
        return {"view": json.loads(view) if isinstance(view, str) else view}


@contextmanager
def installed_bot(
    sandbox: SandboxApp, sandbox_url: str, database_url: str, **settings: Any
) -> Iterator[Installs]:
    """The bot in OAuth mode (no bot token), with a stand-in Slack where two workspaces can
    install it, and a sandbox serving two shops' programs."""
    from bot.offline.sandbox.data import add_second_shop
    from bot.runtime.app import create_distributed_app
    from bot.store.sealed import new_key

    if SECOND_PROGRAM_ID not in sandbox.state.programs:
        add_second_shop(sandbox.state)
    slack = SlackStandIn(token="xoxb-unused", team_id=TEAM, users=OAUTH_USERS, usergroups={})
    slack.add_workspace(SECOND_TEAM, "Second shop")
    with ExitStack() as stack:
        slack_url = stack.enter_context(serving(slack))
        slack.base_url = slack_url
        values: dict[str, Any] = {
            "slack_bot_token": None,
            "slack_client_id": CLIENT_ID,
            "slack_client_secret": CLIENT_SECRET,
            "slack_authorize_url": slack_url + "/oauth/v2/authorize",
            "loyalty_encryption_key": new_key(),
            "smartpasses_app_key": None,
            "smartpasses_program_id": None,
            "loyalty_managers": [],
            "loyalty_manager_group": None,
            **settings,
        }
        config = make_settings(sandbox_url, slack_url, database_url, **values)
        store = Store.from_url(config.database_url)
        app, workspaces = create_distributed_app(
            config, store=store, transport=httpx.HTTPTransport(verify=TLS)
        )
        stack.callback(workspaces.http.close)
        stack.callback(workspaces.locks.close)
        url = stack.enter_context(
            serving(web_app(app, SIGNING_SECRET, lambda: health(store, None)))
        )
        slack.redirect_uri = url + "/slack/oauth_redirect"
        http = stack.enter_context(httpx.Client(timeout=30, verify=TLS))
        done = stack.enter_context(counting_requests())
        harness = Harness(slack, sandbox, store, config, url, http, done)
        yield Installs(harness, workspaces)
        harness.settle()
        store.engine.dispose()
