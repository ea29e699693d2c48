"""Installed in any workspace (OAuth mode): connecting the workspace's own Smart Passes
program from the App Home, its Settings form, what anyone is told before it is connected,
and uninstalling.

Until a workspace is connected the request middleware builds no `env`; the listeners
here marked `not_connected` are registered first and answer every such request (Bolt
runs the first listener that matches), so nothing else runs for it."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Protocol

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.core.validation import Field
from bot.i18n import N_, _, language, speaking, use
from bot.slack import views, workspace_views
from bot.slack.ids import ActionId, Form
from bot.slack.text import escape
from handlers.commands import COMMAND
from handlers.context import Env
from handlers.errors import user_message
from handlers.languages import Languages
from handlers.requestlog import RequestLog, outcome_of
from handlers.slackapi import SLACK_FAILED, why
from handlers.workspace_settings import (
    choices_of,
    read_settings_form,
    their_time_zone,
    try_program,
)

if TYPE_CHECKING:
    import httpx

    from bot.domain.settings import Settings
    from bot.store.workspaces import WorkspaceRecords
    from handlers.context import Services
    from handlers.workpool import WorkPool


class InstalledClients(Protocol):
    def client(self, team_id: str) -> WebClient | None: ...
    def installer(self, team_id: str) -> str: ...


class Workspaces(Protocol):
    """What these listeners use of the workspaces (bot.runtime.tenants.Workspaces)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def records(self) -> WorkspaceRecords: ...
    @property
    def clients(self) -> InstalledClients: ...
    @property
    def http(self) -> httpx.Client: ...
    @property
    def work(self) -> WorkPool: ...
    def services_for(self, team_id: str) -> Services | None: ...
    def drop(self, team_id: str) -> None: ...


log = logging.getLogger(__name__)
_NOTHING_SAVED = N_("Nothing was saved.")
_ZONE_THEIRS = N_(
    "Days and hours (the summary's time, clerks' daily limits) follow {zone}, your time zone "
    "in Slack; Settings changes it."
)
_ZONE = N_(
    "Days and hours (the summary's time, clerks' daily limits) follow {zone}; Settings changes it."
)
CONNECTING = "loyalty_connecting"


class Installed:
    """What these listeners share: the workspaces, their records and Slack clients."""

    def __init__(self, workspaces: Workspaces) -> None:
        self.workspaces = workspaces
        self.records = workspaces.records
        self.clients = workspaces.clients
        # The languages of people in workspaces not connected yet: the installer reads
        # the Home tab, the Connect form and its answer in theirs (after, each
        # workspace's services keep their own).
        self.languages = Languages(workspaces.settings.loyalty_language)

    def speak_to(self, client: WebClient, user_id: str) -> None:
        """Write to `user_id` in their language from here on (asking Slack if it is not
        known yet: only after the ack)."""
        use(self.languages.of(client, user_id))

    def installer(self, team_id: str) -> str:
        return self.clients.installer(team_id)

    def may_configure(self, client: WebClient, team_id: str, user_id: str) -> bool:
        """The person who installed the app, or a workspace admin or owner."""
        if user_id and user_id == self.installer(team_id):
            return True
        try:
            user = client.users_info(user=user_id).get("user") or {}
        except SLACK_FAILED as exc:
            log.info("could not read %s's role: %s", user_id, why(exc))
            return False
        return bool(user.get("is_admin") or user.get("is_owner"))


def not_connected(context: BoltContext) -> bool:
    return context.get("env") is None


def register(app: App, installed: Installed) -> None:
    workspaces, records = installed.workspaces, installed.records

    # -- uninstalling ------------------------------------------------------------------

    @app.event("app_uninstalled")
    def uninstalled(context: BoltContext) -> None:
        forget(context.team_id or "")

    @app.event("tokens_revoked")
    def tokens_revoked(event: dict[str, Any], context: BoltContext) -> None:
        if (event.get("tokens") or {}).get("bot"):
            forget(context.team_id or "")

    def forget(team_id: str) -> None:
        records.uninstalled(team_id)
        workspaces.drop(team_id)
        log.info("workspace %s uninstalled: its tokens and App Key are deleted", team_id)

    # -- connecting --------------------------------------------------------------------

    @app.action(ActionId.HOME_CONNECT)
    def connect(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        team, user = context.team_id or "", context.user_id or ""
        installed.speak_to(client, user)  # known since their Home tab: no call to Slack
        if not installed.may_configure(client, team, user):
            client.views_open(
                trigger_id=body["trigger_id"],
                view=views.notice(_("Connect Smart Passes"), _not_allowed(installed, team)),
            )
            return
        client.views_open(trigger_id=body["trigger_id"], view=workspace_views.connect_form())

    @app.view(Form.CONNECT)
    def connect_submitted(
        ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient
    ) -> None:
        team, user = context.team_id or "", context.user_id or ""
        values = workspace_views.choices_of(view.get("state") or {})
        key = str(values.get(Field.APP_KEY) or "").strip()
        program = str(values.get(Field.PROGRAM_ID) or "").strip()
        problems: dict[str, str] = {}
        if not key:
            problems[Field.APP_KEY] = _("Paste the App Key.")
        if not program.isdigit() or not 0 < int(program) < 2**63:
            problems[Field.PROGRAM_ID] = _("The Program ID is a number, like 4886905521176576.")
        if problems:
            ack(response_action="errors", errors=problems)
            return
        ack(
            response_action="update",
            view=views.loading(_("Connect Smart Passes"), _("Checking with Smart Passes…")),
        )
        view_id = view["id"]
        title = _("Connect Smart Passes")

        def check_and_save() -> None:
            installed.speak_to(client, user)
            if not installed.may_configure(client, team, user):  # asked again: forms are forged
                client.views_update(
                    view_id=view_id, view=views.notice(title, _not_allowed(installed, team))
                )
                return
            why = try_program(workspaces.settings, key, int(program), workspaces.http)
            if why is not None:
                form = workspace_views.connect_form(program, problem=_(why))
                client.views_update(view_id=view_id, view=form)
                return
            current = records.get(team)
            records.connect(team, app_key=key, program_id=int(program), user_id=user)
            chosen = dict(current.settings) if current else {}
            zone_is_theirs = False
            if "loyalty_managers" not in chosen:
                # The first manager is whoever connected; Settings adds the others. The
                # shop's clock is theirs until someone chooses: the server's (often UTC)
                # would end a Mexican shop's day at 6 p.m.
                chosen["loyalty_managers"] = [user]
                if "loyalty_timezone" not in chosen and (zone := their_time_zone(client, user)):
                    chosen["loyalty_timezone"], zone_is_theirs = zone, True
                records.save_settings(team, chosen)
            workspaces.drop(team)
            log.info("workspace %s connected to program %s by %s", team, program, user)
            zone = chosen.get("loyalty_timezone") or workspaces.settings.loyalty_timezone
            client.views_update(
                view_id=view_id,
                view=views.notice(
                    title,
                    "✅ "
                    + _(
                        "Connected to program {program}. You are a loyalty manager; add "
                        "others and choose channels in Settings on my Home tab."
                    ).format(program=f"`{program}`")
                    + " "
                    + (_(_ZONE_THEIRS) if zone_is_theirs else _(_ZONE)).format(
                        zone=f"`{escape(zone)}`"
                    ),
                ),
            )
            publish_home(installed, client, team, user)

        def failed(error: Exception) -> None:
            notice = views.notice(title, "⚠️ " + user_message(error))
            client.views_update(view_id=view_id, view=notice)

        _after_ack(installed, context, check_and_save, failed)

    # -- settings ----------------------------------------------------------------------

    @app.action(ActionId.HOME_SETTINGS)
    def open_settings(ack: Ack, env: Env) -> None:
        ack()
        env.speak_their_language()
        if not may_change_settings(installed, env):
            env.client.views_open(
                trigger_id=env.trigger_id,
                view=views.notice(_("Settings"), _("Only managers and workspace admins can.")),
            )
            return
        form = workspace_views.settings_form(choices_of(env.settings), env.services.connection)
        env.client.views_open(trigger_id=env.trigger_id, view=form)

    @app.view(Form.SETTINGS)
    def settings_submitted(ack: Ack, view: dict[str, Any], env: Env) -> None:
        chosen, problems = read_settings_form(workspace_views.choices_of(view.get("state") or {}))
        if problems:
            ack(response_action="errors", errors=problems)
            return
        ack()

        def save() -> None:
            if not may_change_settings(installed, env):  # asked again: forms are forged
                env.send_dm(_("Only managers and workspace admins can.") + " " + _(_NOTHING_SAVED))
                return
            current = records.get(env.team_id)
            records.save_settings(env.team_id, {**(current.settings if current else {}), **chosen})
            workspaces.drop(env.team_id)
            log.info("workspace %s settings saved by %s", env.team_id, env.user_id)
            publish_home(installed, env.client, env.team_id, env.user_id)

        env.defer(save)

    # -- before it is connected: every other request --------------------------------

    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        """Before home.py's listener: the Connect button, or the tab with Settings."""
        if event.get("tab", "home") != "home":
            return
        team, user = context.team_id or "", event["user"]
        env = context.get("env")
        if isinstance(env, Env):
            env.defer(lambda: publish_home(installed, client, team, user))
        else:  # an event: answered after its ack, so Slack may be asked their language
            installed.speak_to(client, user)
            publish_home(installed, client, team, user)

    @app.command(COMMAND, matchers=[not_connected])
    def command_not_connected(ack: Ack, context: BoltContext) -> None:
        ack(response_type="ephemeral", text=_not_connected(installed, context))

    @app.action(re.compile(".*"), matchers=[not_connected])
    def action_not_connected(ack: Ack, context: BoltContext) -> None:
        ack()
        if context.respond is not None:
            context.respond(
                text=_not_connected(installed, context),
                response_type="ephemeral",
                replace_original=False,
            )

    @app.view(re.compile(".*"), matchers=[not_connected])
    def view_not_connected(ack: Ack, context: BoltContext) -> None:
        ack(
            response_action="update",
            view=views.notice(_("Loyalty"), _not_connected(installed, context)),
        )

    @app.options(re.compile(".*"), matchers=[not_connected])
    def options_not_connected(ack: Ack) -> None:
        ack(options=[])


def _after_ack(
    installed: Installed,
    context: BoltContext,
    task: Callable[[], None],
    failed: Callable[[Exception], None],
) -> None:
    """Run `task` on the work pool in this request's language; if it raises, `failed`
    tells the person. The request's log line is written when it ends (as `Env.defer` does
    for a connected workspace's requests)."""
    request_log = context.get("request_log")
    if isinstance(request_log, RequestLog):
        request_log.deferred = True
    lang = language()

    def run() -> None:
        outcome = None
        with speaking(lang):
            try:
                task()
            except Exception as error:  # told in the form; user_message logs the unexpected
                outcome = outcome_of(error)
                with suppress(Exception):  # the window may be gone: then only the log has it
                    failed(error)
            finally:
                if isinstance(request_log, RequestLog):
                    request_log.finish(outcome)

    installed.workspaces.work.submit(run)


def _not_allowed(installed: Installed, team_id: str) -> str:
    return _("Only {who} can connect this workspace.").format(
        who=workspace_views.who_connects(installed.installer(team_id))
    )


def _not_connected(installed: Installed, context: BoltContext) -> str:
    return workspace_views.not_connected_text(installed.installer(context.team_id or ""))


def may_change_settings(installed: Installed, env: Env) -> bool:
    return env.services.roles.is_manager(env.user_id) or installed.may_configure(
        env.client, env.team_id, env.user_id
    )


def publish_home(installed: Installed, client: WebClient, team_id: str, user_id: str) -> None:
    """The user's Home tab as it is now: the full tab once connected, else Connect."""
    from handlers.home import publish_home as publish_connected

    services = installed.workspaces.services_for(team_id)
    if services is None:
        can = installed.may_configure(client, team_id, user_id)
        view = workspace_views.not_connected_home(can, installed.installer(team_id))
        client.views_publish(user_id=user_id, view=view)
        return
    env = Env(
        services=services,
        user_id=user_id,
        team_id=team_id,
        channel_id="",
        client=client,
        respond=None,
    )
    admin = installed.may_configure(client, team_id, user_id)
    extra = []
    if admin or services.roles.is_manager(user_id):
        extra.append(workspace_views.settings_button())
    if admin:  # a new App Key, or another program
        extra.append(workspace_views.reconnect_button())
    publish_connected(env, user_id, extra=extra)
