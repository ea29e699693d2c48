"""`loyalty-bot console`: try the bot in a terminal, with no Slack workspace.

The real Bolt app runs in this process against the built-in sandbox (demo data, or the
real Loyalty API when SMARTPASSES_* are set) and the local stand-in for Slack's Web API.
Lines typed are sent exactly as Slack would send them (signed); what Slack would show
(replies, channel posts, updates, DMs, modals) is rendered as text.
"""

from __future__ import annotations

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
from bot.i18n import _, speaking, use
from bot.offline.console_automation import Automation
from bot.offline.console_demo import (
    CHANNELS,
    DEMO_ROLES,
    DEMO_SHOP,
    FIRST_USER,
    HELP,
    HERE,
    HOME,
    MANAGERS,
    SECOND_SHOP_USERS,
    SECOND_TEAM,
    SECRET,
    STAFF,
    TOKEN,
    USERS,
    YES,
)
from bot.offline.console_forms import Forms
from bot.offline.console_screen import (
    Clickable,
    Screen,
    StepFailed,
    _buttons,
)
from bot.offline.requests_done import counting_requests
from bot.offline.sandbox import DEMO_APP_KEY, DEMO_PROGRAM_ID, SandboxApp, build_state
from bot.offline.slack_requests import SlackRequests
from bot.offline.slack_standin import SlackStandIn, SlackUser
from bot.runtime.app import create_served_app
from bot.runtime.wsgi_server import serving
from bot.smartpasses.client import LoyaltyClient
from bot.store.database import Store
from handlers.web import web_app


@dataclass
class Console(Screen, Forms, Automation):
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
    pending: str | None = None  # the line to run next (a command typed into a form)

    def start(self, stack: ExitStack) -> None:
        if self.workspaces:
            return self.start_installed(stack)
        self.names = {u.id: u.name for u in USERS} | dict(CHANNELS)
        self.slack = SlackStandIn(token=TOKEN, users=USERS, channels=CHANNELS)
        slack_url = stack.enter_context(serving(self.slack, keep_alive=True))
        self.slack.base_url = slack_url
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="loyalty-console-"))
        if self.real_api is not None:
            api_settings = {
                k: getattr(self.real_api, k)
                for k in ("smartpasses_app_key", "smartpasses_program_id", "smartpasses_base_url")
            }
        else:
            self.sandbox = SandboxApp(build_state("demo"))
            url = stack.enter_context(serving(self.sandbox, keep_alive=True))
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
        app, services = create_served_app(  # the list loaded at start, as a deployed bot's
            self.settings, client=self.web, loyalty=self.api, store=self.store, warm_index=True
        )
        services.service.index.refreshed.wait(20)  # before the first line is read
        stack.callback(services.service.finish_lookups)  # answers promised, before closing
        self.answers_sent = services.service.answers_sent
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
        slack_url = stack.enter_context(serving(self.slack, keep_alive=True))
        self.slack.base_url = slack_url
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="loyalty-console-"))
        state = build_state("demo")
        add_second_shop(state)
        api_url = stack.enter_context(serving(SandboxApp(state), keep_alive=True))
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
        self.answers_sent = self.installed.answers_sent
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
        """Add to Slack as a person does: /slack/install, Slack's Allow, the redirect
        (its state cookie handed back as a browser on https would)."""
        import httpx

        team = self.requests.team_id
        self.slack.installer = (team, self.user)
        with httpx.Client(timeout=30) as browser:
            page = browser.get(self.bot_url + "/slack/install")  # straight on to Slack
            link = page.headers.get("location", "")
            if page.status_code != 302 or "/oauth/v2/authorize?" not in link:
                raise StepFailed("no Add to Slack (is the console in --workspaces mode?)")
            allowed = browser.get(link)
            cookie = page.headers["set-cookie"].split(";", 1)[0]
            done = browser.get(allowed.headers["location"], headers={"Cookie": cookie})
        heading = re.search(r"<h2>(.*?)</h2>", done.text)
        shop = self.slack.team_names.get(team, team)
        self.say(f"[{shop}] " + (heading[1] if heading else f"HTTP {done.status_code}"))
        if done.status_code != 200:
            raise StepFailed("the installation failed")

    def open_home(self, _args: str) -> None:
        if self.workspaces and not self.is_installed():  # Slack shows no Home tab for it
            self.say(_("The bot is not installed in this workspace yet: type install first."))
            return
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
            "step": self.run_step,
            "shortcut": self.run_shortcut,
            "help": lambda _args: self.say(_(HELP)),
        }
        if word not in actions:
            raise StepFailed(
                _("unknown command “{word}” (type {help})").format(word=word, help="help")
            )
        self.last_output = []
        actions[word](rest)

    def sign_up(self, args: str) -> None:
        """A customer joins through their wallet pass (at Smart Passes, not through the
        bot): `signup First Last [email] [+phone]`."""
        sandbox = getattr(self, "sandbox", None)
        words = args.split()
        if sandbox is None or not words:
            raise StepFailed(
                _("signup works with the demo sandbox: signup First Last [email] [+phone]")
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
            raise StepFailed(_("click what? e.g. click Approve"))
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
        raise StepFailed(_("no “{spec}” button on the messages shown so far").format(spec=spec))

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
            raise StepFailed(
                _("no channel #{name}; there are {channels}").format(
                    name=name, channels=", ".join(CHANNELS.values())
                )
            )
        posted = [m for m in self.slack.messages if m.channel == channel and not m.ephemeral_to]
        if not posted:
            self.say(_("#{name}: nothing posted yet").format(name=name))
        for m in posted:
            thread = _(", in a thread") if m.thread_ts else ""
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
