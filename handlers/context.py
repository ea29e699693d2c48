"""What every listener gets: the core services, and one request's who/where/how-to-reply
(the `Env`, built by the request middleware and handed to listeners as `env`)."""

from __future__ import annotations

import http.client
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

import httpx
from slack_sdk import WebClient

from bot.core.approvals import PublicationApprovals
from bot.core.roles import Roles
from bot.core.service import LoyaltyService
from bot.core.summary import SharedSummary
from bot.domain.audit import Actor, AuditEntry, Outcome
from bot.domain.policy import Act
from bot.domain.say import Say
from bot.domain.settings import Settings
from bot.i18n import speaking, use
from bot.slack import blocks
from bot.slack.blocks import Message
from bot.slack.workspace_views import Connection
from handlers.errors import reply_with_error
from handlers.languages import Languages
from handlers.reply_pool import ReplyPool
from handlers.requestlog import RequestLog, outcome_of
from handlers.slackapi import SLACK_FAILED, why
from handlers.workpool import WorkPool

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    settings: Settings
    service: LoyaltyService
    roles: Roles
    # Work done after the ack runs here, not on Bolt's listener threads, so a slow
    # Loyalty API can never hold up the ack of the next request.
    work: WorkPool
    approvals: PublicationApprovals
    summary: SharedSummary  # /loyalty summary on demand: one computation a minute
    languages: Languages  # each person's language, from their Slack locale
    # Installed in any workspace (OAuth mode): whose services these are, and their program
    team_id: str = ""
    connection: Connection | None = None


class Tenancy(Protocol):
    """Which services serve a request (bot.runtime.tenants: one workspace's, or each
    installed workspace's own)."""

    def services_for(self, team_id: str) -> Services | None:
        """The services for a request from `team_id`; None if it is not connected."""


_REPLIES = ReplyPool()  # every reply to a response_url (a TLS connection kept, not one each)


@dataclass(frozen=True)
class Responder:
    """Posts to a request's `response_url`, as Bolt's `respond` does, over kept-alive
    connections (Bolt's opens a new connection, in production a TLS handshake, for each
    reply; handlers.reply_pool)."""

    url: str

    def __call__(self, **message: Any) -> int | None:
        """The HTTP status of the reply; None if it could not be delivered (logged)."""
        body = {k: v for k, v in message.items() if v is not None}
        try:
            status = _REPLIES.post_json(self.url, body)
        except (OSError, http.client.HTTPException, httpx.HTTPError) as exc:
            # the change is done and recorded; only the reply failed
            log.warning("could not reply to a response_url: %s", type(exc).__name__)
            return None
        if status >= 400:
            log.warning("a response_url answered HTTP %d", status)
        return status


@dataclass(frozen=True)
class Env:
    """One request: who asked, where, and how to answer them."""

    services: Services
    user_id: str
    team_id: str
    channel_id: str
    client: WebClient
    respond: Callable[..., Any] | None  # None without a response_url (a form submission)
    trigger_id: str = ""
    replace_original: bool = False
    log: RequestLog | None = None
    lang: str = "en"  # the person's language (bot.i18n)
    lang_known: bool = True  # False: `lang` is the workspace's until Slack says (after the ack)

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, self.team_id)

    @property
    def service(self) -> LoyaltyService:
        return self.services.service

    @property
    def settings(self) -> Settings:
        return self.services.settings

    def allows(self, act: Act) -> bool:
        """May this person do `act` (the policy)? Cards show only the buttons they may use."""
        return self.services.roles.allows(self.user_id, act)

    def undo_minutes(self, undoing: Act) -> int | None:
        """The minutes a change can be undone in, for someone who may `undoing` (an undo
        hint is shown only to them)."""
        return self.settings.loyalty_undo_minutes if self.allows(undoing) else None

    def speak_their_language(self) -> None:
        """After the ack, before something is shown at once (a form): write in the
        person's language from here on, asking Slack now if it is not known yet."""
        if not self.lang_known:
            use(self.services.languages.of(self.client, self.user_id))

    def replacing(self) -> Env:
        """This request, answering in place of the message that was clicked."""
        return replace(self, replace_original=True)

    def in_channel(self, channel_id: str) -> Env:
        return replace(self, channel_id=channel_id)

    def note(self, outcome: str) -> None:
        """The outcome for this request's log line, when it is answered in the ack (a
        form's field errors, say) rather than by raising."""
        if self.log is not None:
            self.log.outcome = outcome

    def reply(self, message: Message) -> None:
        """Ephemeral to the person who asked (replacing the message they clicked, if any);
        a direct message when the request has nowhere to answer (a form submission)."""
        if self.respond is None:
            self.send_dm(message)
            return
        self.respond(
            **message.kwargs(), response_type="ephemeral", replace_original=self.replace_original
        )

    def send_dm(self, message: Message | str) -> None:
        send_dm(self.client, self.user_id, message)

    def announce(self, entry: AuditEntry | None) -> None:
        """Post a change to the audit channel, and tell the managers if it makes the points
        given unusual (bot.core.alerts); a change is announced once, after it stands."""
        announce(self.client, self.settings, entry)
        alert_managers(self.client, self.services, entry)

    def update_view(self, view_id: str, view: dict[str, Any]) -> bool:
        """Show `view` in an open modal; False (logged) if it is gone (the person closed it).
        Never raises: what was done is told another way, or is already in the record."""
        try:
            self.client.views_update(view_id=view_id, view=view)
            return True
        except SLACK_FAILED as exc:
            log.info("could not update modal %s: %s", view_id, why(exc))
            return False

    def defer(
        self,
        task: Callable[[], None],
        *,
        once: str = "",
        again: Callable[[], Say | str] | None = None,
    ) -> None:
        """Run `task` on the work pool, after the ack. Its errors get the one error reply,
        and this request's log line is written when it ends. With `once` (a one-time key)
        it runs only for the first request that claims the key; the others are told
        `again()` (or that it was already received). Overloaded (nothing started) when the
        pool is full."""
        request_log = self.log
        if request_log is not None:
            request_log.deferred = True

        def run() -> None:
            outcome = None
            lang = (
                self.lang
                if self.lang_known
                else self.services.languages.of(self.client, self.user_id)
            )
            with speaking(lang):
                try:
                    if once:
                        with self.service.ledger.once(once, self.user_id, again=again or ""):
                            task()
                    else:
                        task()
                except Exception as error:  # handed to the one error reply, never swallowed
                    outcome = outcome_of(error)
                    reply_with_error(error, self)
                finally:
                    if request_log is not None:
                        request_log.finish(outcome)

        try:
            self.services.work.submit(run)
        except Exception:
            if request_log is not None:
                request_log.deferred = False  # answered now: the listener's line says so
            raise


def announce(client: WebClient, settings: Settings, entry: AuditEntry | None) -> None:
    """Post a change that was made to the audit channel, if one is set, as its audit entry
    says (in the workspace's language). The change is already made and recorded: a
    failure here is only logged."""
    channel = settings.loyalty_audit_channel
    if not channel or entry is None or entry.outcome != Outcome.OK:
        return
    try:
        with speaking(settings.loyalty_language):
            message = blocks.change_announcement(entry)
        client.chat_postMessage(channel=channel, **message.kwargs())
    except Exception as exc:  # a post that fails never hides or undoes the change
        log.warning("could not post audit entry %d to %s: %s", entry.id, channel, exc)


def alert_managers(client: WebClient, services: Services, entry: AuditEntry | None) -> None:
    """Unusual points after this change: to the audit channel if one is set, else to each
    manager by DM, in the workspace's language. Each alert is claimed before it is sent
    (never twice); a failure to send is only logged: the change stands either way."""
    try:
        alerts = services.service.alerts_after(entry)
    except Exception as exc:  # the checks read the store: never a failure of the change
        log.warning("could not check for unusual points: %s", type(exc).__name__)
        return
    settings = services.settings
    for alert in alerts:
        with speaking(settings.loyalty_language):
            message = blocks.unusual_points(alert)
        channel = settings.loyalty_audit_channel
        try:
            if channel:
                client.chat_postMessage(channel=channel, **message.kwargs())
            else:
                for manager in services.roles.manager_ids():
                    send_dm(client, manager, message)
        except Exception as exc:  # told in the log; the changes are in the audit log
            log.warning("could not send an alert about unusual points: %s", exc)


def send_dm(client: WebClient, user_id: str, message: Message | str) -> None:
    """A direct message from the bot (its Messages tab), opened with conversations.open."""
    channel = client.conversations_open(users=user_id)["channel"]["id"]
    kwargs = message.kwargs() if isinstance(message, Message) else {"text": message}
    client.chat_postMessage(channel=channel, **kwargs)


class OneWorkspace:
    """Single-workspace mode: every request gets the same services."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def services_for(self, team_id: str) -> Services:
        return self.services
