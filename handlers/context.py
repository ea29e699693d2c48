"""What every handler needs: the core services, and one request's who/where/how-to-reply."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient

from bot.core.approvals import PublicationApprovals
from bot.core.audit import Actor, AuditEntry, Outcome
from bot.core.policy import Act
from bot.core.roles import Roles
from bot.core.say import Say
from bot.core.service import LoyaltyService
from bot.core.summary import SharedSummary
from bot.runtime.settings import Settings
from bot.runtime.workpool import Overloaded, WorkPool
from bot.slack import blocks
from bot.slack.blocks import Message
from handlers import observe
from handlers.errors import reply_with_error

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

    def defer(
        self,
        task: Callable[[], None],
        body: dict[str, Any],
        client: WebClient,
        respond: Callable[..., Any] | None,
        *,
        once: str = "",
        again: Callable[[], Say | str] | None = None,
    ) -> None:
        """Run `task` after the ack; its errors get the same reply as any other error, and
        the request's log line is written when it ends. With `once` (a one-time key), the
        task runs only for the first request that claims the key; the others are told
        `again()` (or that it was already received)."""
        entry = observe.current()
        if entry is not None:
            entry.deferred = True
        user = body.get("user_id") or (body.get("user") or {}).get("id", "")

        def run() -> None:
            outcome = None
            try:
                if once:
                    with self.service.ledger.once(once, user, again=again or ""):
                        task()
                else:
                    task()
            except Exception as error:  # handed to the one error reply, never swallowed
                outcome = observe.outcome_of(error)
                reply_with_error(error, body, client, respond)
            finally:
                if entry is not None:
                    entry.finish(outcome)

        try:
            self.work.submit(run)
        except Overloaded:
            if entry is not None:
                entry.deferred = False  # answered now: the listener's log line says so
            raise


@dataclass(frozen=True)
class Env:
    """One request: who asked, where, and how to answer them."""

    services: Services
    user_id: str
    team_id: str
    channel_id: str
    client: WebClient
    respond: Callable[..., Any]
    trigger_id: str = ""
    replace_original: bool = False

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

    def reply(self, message: Message) -> None:
        """Ephemeral to the person who asked (replacing the message they clicked, if any)."""
        self.respond(
            **message.kwargs(), response_type="ephemeral", replace_original=self.replace_original
        )

    def send_dm(self, message: Message) -> None:
        send_dm(self.client, self.user_id, message)

    def announce(self, entry: AuditEntry | None) -> None:
        announce(self.client, self.settings, entry)


def announce(client: WebClient, settings: Settings, entry: AuditEntry | None) -> None:
    """Post a change that was made to the audit channel, if one is set, as its audit entry
    says. The change is already made and recorded: a failure here is only logged."""
    channel = settings.loyalty_audit_channel
    if not channel or entry is None or entry.outcome != Outcome.OK:
        return
    try:
        client.chat_postMessage(channel=channel, **blocks.change_announcement(entry).kwargs())
    except Exception as exc:  # a post that fails never hides or undoes the change
        log.warning("could not post audit entry %d to %s: %s", entry.id, channel, exc)


def send_dm(client: WebClient, user_id: str, message: Message | str) -> None:
    """A direct message from the bot (its Messages tab), opened with conversations.open."""
    channel = client.conversations_open(users=user_id)["channel"]["id"]
    kwargs = message.kwargs() if isinstance(message, Message) else {"text": message}
    client.chat_postMessage(channel=channel, **kwargs)


def env_from_body(
    services: Services,
    body: dict[str, Any],
    client: WebClient,
    respond: Callable[..., Any],
    *,
    replace_original: bool = False,
) -> Env:
    """Build the Env for a slash command (flat body) or an interaction payload."""
    user = body.get("user") or {}
    return Env(
        services=services,
        user_id=body.get("user_id") or user.get("id", ""),
        team_id=body.get("team_id")
        or (body.get("team") or {}).get("id", "")
        or user.get("team_id", ""),
        channel_id=body.get("channel_id") or (body.get("channel") or {}).get("id", ""),
        client=client,
        respond=respond,
        trigger_id=body.get("trigger_id", ""),
        replace_original=replace_original,
    )
