"""`loyalty-bot console`: try the bot in a terminal, with no Slack workspace.

The real Bolt app runs in this process against the built-in sandbox (demo data, or the
real Loyalty API when SMARTPASSES_* are set) and the local stand-in for Slack's Web API.
Lines typed are sent exactly as Slack would send them (signed); what Slack would show
(replies, channel posts, updates, DMs, modals) is rendered as text.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from slack_sdk import WebClient

from bot.domain.errors import ConfigError
from bot.domain.settings import Settings, load_settings
from bot.i18n import N_, _, speaking, use
from bot.offline.requests_done import counting_requests
from bot.offline.sandbox import DEMO_APP_KEY, DEMO_PROGRAM_ID, SandboxApp, build_state
from bot.offline.slack_requests import SlackRequests
from bot.offline.slack_standin import SlackCall, SlackStandIn, SlackUser
from bot.runtime.app import create_app, web_app
from bot.runtime.wsgi_server import serving
from bot.slack.render import render_blocks
from bot.smartpasses.client import LoyaltyClient
from bot.store.database import Store

SECRET, TOKEN = "console-signing-secret", "xoxb-console"
USERS = [
    SlackUser("UMARTA", "marta", "Marta, manager", "marta@shop.example"),
    SlackUser("UGABO", "gabo", "Gabo, manager", "gabo@shop.example"),
    SlackUser("UCARL", "carl", "Carl, clerk", "carl@shop.example"),
    SlackUser("UJUAN", "juan", "Juan Pérez, a customer", "juan.perez@example.com"),
    SlackUser("UANA", "ana", "Ana García, a customer", "ana.garcia@example.com"),
    SlackUser("UROCIO", "rocio", "Rocío, gerente", "rocio@shop.example", locale="es-MX"),
    SlackUser("ULUPITA", "lupita", "Lupita, cajera", "lupita@shop.example", locale="es-MX"),
]
STAFF = ("marta", "gabo", "carl", "rocio", "lupita")
# `console --workspaces`: installed through OAuth in the demo shop (marta owns its Slack)
# and in a second shop's workspace (sam owns it; sid is a clerk there).
SECOND_TEAM = "T0SECOND"
SECOND_SHOP_USERS = [
    SlackUser(
        "USAM",
        "sam",
        "Sam, owner of the second shop",
        "sam@second.example",
        team_id=SECOND_TEAM,
        is_owner=True,
    ),
    SlackUser(
        "USID", "sid", "Sid, clerk of the second shop", "sid@second.example", team_id=SECOND_TEAM
    ),
]
# The demo shop is Mexican (its customers' phones are +52) and lets clerks work the till:
# a real shop chooses (LOYALTY_DEFAULT_REGION, LOYALTY_CLERK_MAX_POINTS / _DAILY_POINTS).
DEMO_SHOP: dict[str, Any] = {
    "loyalty_default_region": "MX",
    "loyalty_clerk_max_points": 50,
    "loyalty_clerk_daily_points": 200,
}
DEMO_ROLES = N_(
    "In this demo, marta, gabo and rocio are managers: they may do everything. carl and "
    "lupita are clerks: they look customers up, sign new ones up, add up to {most} points "
    "in one change and {daily} a day, redeem rewards and undo their own last add; deducting, "
    "setting a balance and deleting are for managers. Phone numbers without + are read as "
    "Mexican (+52)."
)
HOME = "home"  # clickables on the Home tab
YES = {"y", "yes", "s", "sí", "si"}  # a confirmation, in either language
MANAGERS = ["UMARTA", "UGABO", "UROCIO"]
FIRST_USER = {"en": "marta", "es": "rocio"}  # who `console --lang` starts as
CHANNELS = {"CSHOP": "shop", "CAPPROVALS": "approvals", "CSUMMARY": "summary", "CAUDIT": "audit"}
HERE = "CSHOP"
HELP = N_(
    "  /loyalty ...          exactly as in Slack (try /loyalty help); @juan, @ana are customers\n"
    "  click <label> [n]     press a button on the latest message that has it (the n-th if "
    "several)\n"
    "  as <user>             act as marta, gabo or rocio (managers) or carl or lupita "
    "(clerks; rocio and lupita read Spanish)\n"
    "  channel <name>        what was posted in #shop, #approvals, #summary or #audit\n"
    "  summary               post the daily summary to #summary, as the clock would\n"
    "  home                  open the bot's Home tab\n"
    "  install               Add to Slack, in your workspace (console --workspaces)\n"
    "  users                 the demo users\n"
    "  signup First Last [email] [+phone]   a customer joins through their wallet pass "
    "(not through the bot)\n"
    "  quit                  leave\n"
    "In a form, answer each field; Enter keeps the value in [brackets]; !cancel closes it."
)


# Control characters (an escape sequence in a customer's name, say) shown as \xNN.
_TERMINAL_SAFE = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F] if c != 0x0A}


def _shown_value(element: dict[str, Any]) -> Any:
    """What an input holds as the form shows it (typed before, or chosen)."""
    if "initial_option" in element:
        return (element.get("initial_option") or {}).get("value")
    for key in ("initial_value", "initial_time", "initial_channel", "initial_user"):
        if key in element:
            return element[key]
    if "initial_users" in element:
        return element["initial_users"]
    return None


class StepFailed(Exception):
    """A step did not do what it should (a script then exits non-zero)."""


@dataclass
class Clickable:
    """A message with buttons: `message` (with its ts) for a channel post, None if ephemeral."""

    blocks: list[dict[str, Any]]
    channel: str
    message: dict[str, Any] | None = None


@dataclass
class Console:
    out: TextIO = sys.stdout
    user: str = "UMARTA"
    script: Iterator[str] | None = None
    real_api: Settings | None = None
    lang: str = "en"  # the console's own words, and the channels' language
    clickables: list[Clickable] = field(default_factory=list)
    last_output: list[str] = field(default_factory=list)
    view_id: str | None = None
    sent: int = 0  # requests the bot took; each ends with its request log line
    typed: dict[str, Any] = field(default_factory=dict)
    workspaces: bool = False  # installed through OAuth in two workspaces
    refusals: int = 0  # requests Bolt refused (from a workspace with no installation)

    # -- setting up ------------------------------------------------------------------

    def start(self, stack: ExitStack) -> None:
        if self.workspaces:
            return self.start_installed(stack)
        self.names = {u.id: u.name for u in USERS} | dict(CHANNELS)
        self.slack = SlackStandIn(token=TOKEN, users=USERS, channels=CHANNELS)
        slack_url = stack.enter_context(serving(self.slack))
        self.slack.base_url = slack_url
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="loyalty-console-"))
        if self.real_api is not None:
            api_settings = {
                k: getattr(self.real_api, k)
                for k in ("smartpasses_app_key", "smartpasses_program_id", "smartpasses_base_url")
            }
        else:
            self.sandbox = SandboxApp(build_state("demo"))
            url = stack.enter_context(serving(self.sandbox))
            api_settings = {
                "smartpasses_app_key": DEMO_APP_KEY,
                "smartpasses_program_id": DEMO_PROGRAM_ID,
                "smartpasses_base_url": url + "/api/v1/loyalty/",
                **DEMO_SHOP,
            }
        self.settings = Settings(
            _env_file=None,
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=slack_url + "/api/",
            loyalty_managers=MANAGERS,
            loyalty_approvals_channel="CAPPROVALS",
            loyalty_summary_channel="CSUMMARY",
            loyalty_audit_channel="CAUDIT",
            loyalty_language=self.lang,
            database_url=f"sqlite:///{Path(tmp) / 'console.db'}",
            **api_settings,
        )
        self.store = Store.from_url(self.settings.database_url)
        stack.callback(self.store.engine.dispose)
        self.api = stack.enter_context(LoyaltyClient.from_settings(self.settings))
        self.web = WebClient(token=TOKEN, base_url=self.settings.slack_api_url)
        app = create_app(self.settings, client=self.web, loyalty=self.api, store=self.store)
        bot_url = stack.enter_context(serving(web_app(app, SECRET)))
        self.requests = SlackRequests(bot_url, SECRET, self.slack)
        self.done = stack.enter_context(counting_requests(quiet=True))

    def start_installed(self, stack: ExitStack) -> None:
        """OAuth mode: nothing installed yet; `install` and the Home tab's Connect do it."""
        import logging

        # Bolt logs each request from a workspace with no installation as an error.
        logging.getLogger("slack_bolt.MultiTeamsAuthorization").addFilter(lambda record: False)
        from bot.offline.sandbox.data import add_second_shop
        from bot.runtime.app import create_distributed_app
        from bot.store.sealed import new_key

        users = [
            SlackUser(**{**vars(u), "is_owner": u.name == "marta"}) for u in USERS
        ] + SECOND_SHOP_USERS
        self.users = users
        self.names = {u.id: u.name for u in users} | dict(CHANNELS)
        self.slack = SlackStandIn(token=TOKEN, users=users, channels=CHANNELS)
        self.slack.add_workspace(SECOND_TEAM, "Second shop")
        slack_url = stack.enter_context(serving(self.slack))
        self.slack.base_url = slack_url
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="loyalty-console-"))
        state = build_state("demo")
        add_second_shop(state)
        api_url = stack.enter_context(serving(SandboxApp(state)))
        self.settings = Settings(
            _env_file=None,
            slack_client_id=self.slack.client_id,
            slack_client_secret=self.slack.client_secret,
            slack_signing_secret=SECRET,
            slack_api_url=slack_url + "/api/",
            slack_authorize_url=slack_url + "/oauth/v2/authorize",
            smartpasses_base_url=api_url + "/api/v1/loyalty/",
            loyalty_encryption_key=new_key(),
            loyalty_language=self.lang,
            database_url=f"sqlite:///{Path(tmp) / 'console.db'}",
            **DEMO_SHOP,
        )
        self.store = Store.from_url(self.settings.database_url)
        stack.callback(self.store.engine.dispose)
        app, self.installed = create_distributed_app(self.settings, store=self.store)
        stack.callback(self.installed.http.close)
        bot_url = stack.enter_context(serving(web_app(app, SECRET)))
        self.slack.redirect_uri = bot_url + "/slack/oauth_redirect"
        self.bot_url = bot_url
        self.requests = SlackRequests(bot_url, SECRET, self.slack)
        self.done = stack.enter_context(counting_requests(quiet=True))

    def is_installed(self) -> bool:
        found = self.installed.clients.installations.find_bot(
            enterprise_id=None, team_id=self.requests.team_id
        )
        return found is not None

    def install(self, _args: str) -> None:
        """Add to Slack as a person does: the install page, Slack's Allow, the redirect
        (its state cookie handed back as a browser on https would)."""
        import html

        import httpx

        team = self.requests.team_id
        self.slack.installer = (team, self.user)
        with httpx.Client(timeout=30) as browser:
            page = browser.get(self.bot_url + "/slack/install")
            link = re.search(r'href="([^"]+/oauth/v2/authorize[^"]*)"', page.text)
            if page.status_code != 200 or link is None:
                raise StepFailed("no Add to Slack page (is the console in --workspaces mode?)")
            allowed = browser.get(html.unescape(link[1]))
            cookie = page.headers["set-cookie"].split(";", 1)[0]
            done = browser.get(allowed.headers["location"], headers={"Cookie": cookie})
        heading = re.search(r"<h2>(.*?)</h2>", done.text)
        shop = self.slack.team_names.get(team, team)
        self.say(f"[{shop}] " + (heading[1] if heading else f"HTTP {done.status_code}"))
        if done.status_code != 200:
            raise StepFailed("the installation failed")

    def open_home(self, _args: str) -> None:
        mark = len(self.slack.calls)
        response = self.requests.event(
            {"type": "app_home_opened", "user": self.user, "tab": "home"}
        )
        if response.status_code != 200:
            raise StepFailed(f"the bot answered HTTP {response.status_code}")
        self.settle(mark)
        published = [c for c in self.slack.calls[mark:] if c.method == "views.publish"]
        if not published:
            raise StepFailed("the Home tab was not published")
        self.render_calls(published)

    # -- the loop ----------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        text = text.translate(_TERMINAL_SAFE)  # outside text cannot drive the terminal
        self.last_output.append(text)
        print(text, file=self.out, flush=True)

    def read(self, prompt: str) -> str | None:
        if self.script is not None:
            line = next(self.script, None)
            if line is not None:
                print(f"{prompt}{line}", file=self.out, flush=True)
            return line
        try:
            return input(prompt)
        except EOFError:
            return None

    def run(self) -> int:
        use(self.lang)  # the console's own words
        who = _("the real Loyalty API") if self.real_api else _("the built-in sandbox (demo data)")
        intro = _("Loyalty bot console: the real bot, with {who} and a local Slack.")
        roles = (
            ""
            if self.real_api
            else _(DEMO_ROLES).format(
                most=DEMO_SHOP["loyalty_clerk_max_points"],
                daily=DEMO_SHOP["loyalty_clerk_daily_points"],
            )
            + "\n"
        )
        self.say(intro.format(who=who) + "\n" + roles + _(HELP) + "\n")
        while True:
            line = self.read(f"{self.names[self.user]}@#shop> ")
            if line is None or line.strip() in ("quit", "exit"):
                return 0
            try:
                self.handle(line.strip())
            except StepFailed as exc:
                self.say(f"!! {exc}")
                if self.script is not None:
                    return 1

    def handle(self, line: str) -> None:
        if not line or line.startswith("#"):
            return
        word, _sep, rest = line.partition(" ")
        rest = rest.strip()
        if word == "expect":
            if rest not in "\n".join(self.last_output):
                raise StepFailed(f"expected to see “{rest}”")
            return
        actions = {
            "/loyalty": self.command,
            "click": self.click,
            "as": self.switch,
            "channel": self.show_channel,
            "summary": lambda _args: self.post_summary(),
            "home": self.open_home,
            "install": self.install,
            "users": lambda _args: self.list_users(),
            "signup": self.sign_up,
            "help": lambda _args: self.say(_(HELP)),
        }
        if word not in actions:
            raise StepFailed(f"unknown command “{word}” (type help)")
        self.last_output = []
        actions[word](rest)

    def sign_up(self, args: str) -> None:
        """A customer joins through their wallet pass (at Smart Passes, not through the
        bot): `signup First Last [email] [+phone]`."""
        sandbox = getattr(self, "sandbox", None)
        words = args.split()
        if sandbox is None or not words:
            raise StepFailed(
                "signup works with the demo sandbox: signup First Last [email] [+phone]"
            )
        email = next((w for w in words if "@" in w), "")
        phone = next((w for w in words if w.startswith("+")), "")
        names = [w for w in words if w not in (email, phone)]
        added = sandbox.state.add_customer(
            DEMO_PROGRAM_ID,
            {
                "firstName": names[0],
                "lastName": " ".join(names[1:]),
                "email": email,
                "phone": phone,
            },
        )
        self.say(
            _("({name} joined through their wallet pass: customer {id})").format(
                name=" ".join(names), id=added["id"]
            )
        )

    def list_users(self) -> None:
        for u in getattr(self, "users", USERS):
            self.say(f"  @{u.name:6} {u.real_name}")

    # -- acting like Slack -----------------------------------------------------------------

    def slackify(self, text: str) -> str:
        """What Slack sends with should_escape: mentions and emails become <...> links."""
        by_name = {u.name: u.id for u in getattr(self, "users", USERS)}
        text = re.sub(
            r"(?<![\w<])@(\w+)",
            lambda m: (
                f"<@{by_name[m.group(1)]}|{m.group(1)}>" if m.group(1) in by_name else m.group(0)
            ),
            text,
        )
        return re.sub(r"(?<![<|\w.+-])([\w.+-]+@[\w-]+\.[\w.]+)", r"<mailto:\1|\1>", text)

    def command(self, text: str) -> None:
        mark = len(self.slack.calls)
        response = self.requests.command(self.slackify(text), user=self.user, channel=HERE)
        self.after(response, mark)

    def click(self, spec: str) -> None:
        match = re.fullmatch(r"(.+?)(?:\s+(\d+))?", spec)
        if not match:
            raise StepFailed("click what? e.g. click Approve")
        label, nth = match.group(1).lower(), int(match.group(2) or 1)
        if self.view_id:
            found = _buttons(self.slack.views[self.view_id].get("blocks", []), label)
            if len(found) >= nth:
                mark = len(self.slack.calls)
                self.after(
                    self.requests.click_in_view(self.view_id, found[nth - 1], user=self.user), mark
                )
                return
        for target in reversed(self.clickables):
            found = _buttons(target.blocks, label)
            if len(found) < nth:
                continue
            button = found[nth - 1]
            if button.get("confirm"):
                title = button["confirm"]["title"]["text"]
                yes_or_no = _("[y/N]")
                answer = "" if self.script is not None else input(f"{title} {yes_or_no} ")
                if self.script is None and answer.strip().lower() not in YES:
                    self.say(_("(not clicked)"))
                    return
                self.say(_("({title} Yes.)").format(title=title))
            mark = len(self.slack.calls)
            if target.channel == HOME:
                self.after(self.requests.click_in_home(button, user=self.user), mark)
                return
            self.after(
                self.requests.click(
                    button, user=self.user, channel=target.channel, message=target.message
                ),
                mark,
            )
            return
        raise StepFailed(f"no “{spec}” button on the messages shown so far")

    def switch(self, name: str, quiet: bool = False) -> None:
        name = name.lstrip("@")
        user = next((u for u in getattr(self, "users", USERS) if u.name == name), None)
        staff = (*STAFF, "sam", "sid") if self.workspaces else STAFF
        if user is None or name not in staff:
            raise StepFailed(
                _("as whom? marta, gabo or rocio (managers), or carl or lupita (clerks)")
            )
        self.user = user.id
        self.requests.team_id = user.team_id or self.slack.team_id
        if not quiet:
            self.say(_("(you are now @{name}: {real_name})").format(**vars(user)))

    def show_channel(self, name: str) -> None:
        name = name.lstrip("#")
        channel = next((cid for cid, n in CHANNELS.items() if n == name), None)
        if channel is None:
            raise StepFailed(f"no channel #{name}; there are {', '.join(CHANNELS.values())}")
        posted = [m for m in self.slack.messages if m.channel == channel and not m.ephemeral_to]
        if not posted:
            self.say(_("#{name}: nothing posted yet").format(name=name))
        for m in posted:
            thread = ", in a thread" if m.thread_ts else ""
            self.show(f"#{name}{thread}", m.blocks, m.text)
            self.remember(m.blocks, channel, {"ts": m.ts, "text": m.text, "blocks": m.blocks})

    def post_summary(self) -> None:
        from bot.jobs.summary import post_summary

        mark = len(self.slack.calls)
        if self.workspaces:  # the current person's workspace, with its own token and program
            team = self.requests.team_id
            services = self.installed.services_for(team)
            client = self.installed.clients.client(team)
            if services is None or client is None:
                raise StepFailed("this workspace is not installed and connected yet")
            channel = services.settings.loyalty_summary_channel or "CSUMMARY"
            service = services.service
            result = post_summary(
                client, service.api, service.store, services.settings, channel, force=True
            )
        else:
            result = post_summary(self.web, self.api, self.store, self.settings, force=True)
        self.say(_("(the clock posts the summary for {day} to #summary)").format(day=result.day))
        self.render_calls(self.slack.calls[mark:])

    # -- what came back ------------------------------------------------------------------

    def after(self, response: Any, mark: int) -> None:
        if response.status_code != 200:
            raise StepFailed(f"the bot answered HTTP {response.status_code}")
        body = response.json() if response.content else None
        if self.workspaces and not self.is_installed():
            # Bolt refuses it before any listener (so no request line): its answer only.
            self.slack.wait_for("response_url", count=1 + self.refusals, timeout=10)
            self.refusals += 1
            self.render_calls(self.slack.calls[mark:])
            return
        calls = self.settle(mark)
        if body and body.get("response_action") == "errors":
            self.render_calls(calls)
            self.fix_errors(body["errors"])
            return
        if body and body.get("response_action") == "update" and self.view_id:
            later = [
                c
                for c in calls
                if c.method == "views.update" and c.args.get("view_id") == self.view_id
            ]
            if not later:  # else the work after the ack has filled the window since
                self.slack.views[self.view_id] = {**body["view"], "id": self.view_id}
        elif body and (body.get("text") or body.get("blocks")):
            self.show(_("only you"), body.get("blocks") or [], body.get("text", ""))
            self.remember(body.get("blocks") or [], HERE)
        elif not calls and not body and self.view_id is None:
            raise StepFailed("no answer from the bot")
        self.render_calls(calls, updated=bool(body and body.get("response_action") == "update"))

    def settle(self, mark: int, limit: float = 20.0) -> list[SlackCall]:
        """Wait until the bot has finished the request (its log line is written when all
        its work has ended); return the Slack calls it made."""
        self.sent += 1
        if not self.done.wait_for(self.sent, limit):
            raise StepFailed(f"the bot was still working after {limit:.0f} s")
        return self.slack.calls[mark:]

    def render_calls(self, calls: list[SlackCall], updated: bool = False) -> None:
        modal = updated
        for call in calls:
            args, method = call.args, call.method
            if method == "response_url":
                if args.get("delete_original"):
                    self.say(_("(the message was removed)"))
                    continue
                where = (
                    _("only you, replacing the message above")
                    if args.get("replace_original")
                    else _("only you")
                )
                self.show(where, _blocks(args), args.get("text", ""))
                self.remember(_blocks(args), HERE)
            elif method == "chat.postEphemeral":
                self.show(
                    _("only you, in #{channel}").format(
                        channel=self.names.get(args["channel"], args["channel"])
                    ),
                    _blocks(args),
                    args.get("text", ""),
                )
                self.remember(_blocks(args), args["channel"])
            elif method == "chat.postMessage":
                channel = args.get("_channel", args.get("channel", ""))
                where = (
                    _("DM from Loyalty to @{name}").format(
                        name=self.names.get("U" + channel[1:], "?")
                    )
                    if channel.startswith("D")
                    else f"#{self.names.get(channel, channel)}"
                )
                if args.get("thread_ts"):
                    where += _(", in a thread")
                self.show(where, _blocks(args), args.get("text", ""))
                self.remember(
                    _blocks(args),
                    channel,
                    {"ts": args.get("_ts"), "text": args.get("text", ""), "blocks": _blocks(args)},
                )
            elif method == "chat.update":
                channel = args["channel"]
                self.show(
                    _("#{channel}, message updated").format(
                        channel=self.names.get(channel, channel)
                    ),
                    _blocks(args),
                    args.get("text", ""),
                )
                self.remember(_blocks(args), channel, {"ts": args["ts"], "blocks": _blocks(args)})
            elif method == "views.publish":
                view = args["view"] if isinstance(args["view"], dict) else json.loads(args["view"])
                self.show(_("Home tab"), view.get("blocks", []), "")
                self.remember(view.get("blocks", []), HOME)
            elif method in ("views.open", "views.update"):
                self.view_id = args.get("view_id") or max(self.slack.views)
                modal = True
        bug = ("something went wrong on my side", "algo salió mal de mi lado")
        if any(b in line for b in bug for line in self.last_output):
            raise StepFailed("the bot hit an unexpected error")
        if modal and self.view_id:
            self.show_view(self.view_id)

    def show(self, where: str, blocks: list[dict[str, Any]], text: str) -> None:
        rendered = render_blocks(blocks, self.names, fallback=text)
        self.say(f"[{where}]\n" + "\n".join("  " + line for line in rendered.splitlines()))

    def remember(
        self, blocks: list[dict[str, Any]], channel: str, message: dict[str, Any] | None = None
    ) -> None:
        if _has_buttons(blocks):
            self.clickables.append(Clickable(blocks, channel, message))

    # -- modals ----------------------------------------------------------------------------

    def show_view(self, view_id: str) -> None:
        view = self.slack.views[view_id]
        title = (view.get("title") or {}).get("text", "Form")
        others = [b for b in view.get("blocks", []) if b.get("type") != "input"]
        self.say(f"┌ {title} " + "─" * max(2, 30 - len(title)))
        for line in render_blocks(others, self.names).splitlines():
            self.say(f"│ {line}")
        inputs = [b for b in view.get("blocks", []) if b.get("type") == "input"]
        if inputs:
            refused = {  # the form came back with what was refused, beside those fields
                b["block_id"]: str(b["hint"]["text"]).removeprefix("⚠️ ")
                for b in inputs
                if str((b.get("hint") or {}).get("text", "")).startswith("⚠️")
            }
            if refused:  # only those are asked again; the rest stand as typed
                self.typed = {b["block_id"]: _shown_value(b["element"]) for b in inputs}
            else:
                self.typed = {}
            self.fill(view_id, refused or None)
        elif _has_buttons(others):
            self.say("└ " + _("(click a button in it)"))
        else:
            self.say("└")
            self.view_id = None

    def fill(self, view_id: str, only: dict[str, str] | None) -> None:
        view = self.slack.views[view_id]
        for block in view["blocks"]:
            if block.get("type") != "input" or (only is not None and block["block_id"] not in only):
                continue
            if only:
                self.say(f"│ ✗ {only[block['block_id']]}")
            value = self.ask(block, self.typed.get(block["block_id"]))
            if value is None:
                self.say("└ " + _("(form closed, nothing sent)"))
                self.view_id = None
                return
            self.typed[block["block_id"]] = value
        mark = len(self.slack.calls)
        response = self.requests.submit(view_id, self.typed, user=self.user)
        self.say("└ " + _("(submitted)"))
        if not response.content:
            self.view_id = None
        self.after(response, mark)

    def ask(self, block: dict[str, Any], current: Any) -> Any:
        element, label = block["element"], block["label"]["text"]
        if element["type"] in PICKERS:
            return self.pick(element, label, current, optional=bool(block.get("optional")))
        if element["type"] in ("radio_buttons", "static_select"):
            options = element["options"]
            chosen = current or (element.get("initial_option") or {}).get("value", "")
            menu = ", ".join(f"{i} {o['text']['text']}" for i, o in enumerate(options, 1))
            # The default as the menu shows it: its number and words, not a value inside.
            default = next(
                (
                    f"{i} {o['text']['text']}"
                    for i, o in enumerate(options, 1)
                    if o["value"] == chosen
                ),
                chosen,
            )
            answer = self.read(f"│ {label} ({menu}) [{default}]: ")
            if answer is None or answer.strip() == "!cancel":
                return None
            answer = answer.strip().lower()
            if answer.isdigit() and 1 <= int(answer) <= len(options):
                return options[int(answer) - 1]["value"]
            return next(
                (
                    o["value"]
                    for o in options
                    if answer in (o["value"].lower(), o["text"]["text"].lower())
                ),
                chosen,
            )
        shown = current if current is not None else element.get("initial_value") or ""
        optional = " " + _("(optional)") if block.get("optional") else ""
        answer = self.read(f"│ {label}{optional} [{shown}]: ")
        if answer is None or answer.strip() == "!cancel":
            return None
        return answer if answer.strip() else shown

    def pick(self, element: dict[str, Any], label: str, current: Any, optional: bool) -> Any:
        """A people, channel or time picker: typed as @names, a #name or HH:MM."""
        kind = element["type"]
        ids = {v: k for k, v in self.names.items()}
        initial = current if current is not None else element.get(PICKERS[kind])
        if kind == "multi_users_select":
            shown = ", ".join("@" + self.names.get(u, u) for u in initial or [])
        elif kind == "conversations_select":
            shown = "#" + self.names.get(initial, initial) if initial else ""
        else:
            shown = initial or ""
        extra = " " + _("(optional)") if optional else ""
        answer = self.read(f"│ {label}{extra} [{shown}]: ")
        if answer is None or answer.strip() == "!cancel":
            return None
        answer = answer.strip()
        if not answer:
            return initial
        if kind == "multi_users_select":
            return [
                ids.get(w.strip().lstrip("@"), w.strip()) for w in answer.split(",") if w.strip()
            ]
        if kind == "conversations_select":
            return ids.get(answer.lstrip("#"), answer)
        return answer

    def fix_errors(self, errors: dict[str, str]) -> None:
        if self.view_id is None:
            raise StepFailed(f"form errors with no form open: {errors}")
        self.say("│ " + _("Please fix:"))
        self.fill(self.view_id, errors)


# Pickers the console asks for by name, and the view's key for their initial choice.
PICKERS = {
    "multi_users_select": "initial_users",
    "conversations_select": "initial_conversation",
    "timepicker": "initial_time",
}


def _blocks(args: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = args.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


def _has_buttons(blocks: list[dict[str, Any]]) -> bool:
    return any(
        b.get("type") == "actions" or (b.get("accessory") or {}).get("type") == "button"
        for b in blocks
    )


def _buttons(blocks: list[dict[str, Any]], label: str) -> list[dict[str, Any]]:
    found = []
    for block in blocks:
        elements = block.get("elements", []) if block.get("type") == "actions" else []
        if (block.get("accessory") or {}).get("type") == "button":
            elements = [block["accessory"]]
        found += [
            e for e in elements if e.get("type") == "button" and e["text"]["text"].lower() == label
        ]
    return found


def real_api_settings() -> Settings | None:
    """The real Loyalty API when SMARTPASSES_APP_KEY and SMARTPASSES_PROGRAM_ID are set."""
    try:
        return load_settings()
    except ConfigError:
        return None


def run_console(
    user: str = "",
    script: Iterator[str] | None = None,
    out: TextIO = sys.stdout,
    lang: str = "en",
    workspaces: bool = False,
) -> int:
    console = Console(
        out=out,
        script=script,
        real_api=None if workspaces else real_api_settings(),
        lang=lang,
        workspaces=workspaces,
    )
    user = user or FIRST_USER.get(lang, "marta")
    with ExitStack() as stack:
        console.start(stack)
        try:
            console.switch(user, quiet=True)
        except StepFailed as exc:
            raise ConfigError(f"--as {user}: {exc}") from None
        console.last_output = []
        with speaking(lang):  # the console's words; the caller's language after
            return console.run()
