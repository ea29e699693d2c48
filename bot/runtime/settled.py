"""Told in the end: a person whose change was settled after they were answered (the
process answering them stopped, or Smart Passes' answer was unclear, and reconcile or a
later change settled it) gets a direct message with how it ended and the record's
balance, in their language, once. A change nobody can settle is also raised in the audit
channel, if one is set.

Run by every serving process after each reconcile sweep. "Once" is a one-time key per
entry, claimed before the message is sent and given back if Slack cannot take it (the
next sweep tries again).
"""

from __future__ import annotations

import datetime as dt
import logging

from slack_sdk import WebClient

from bot.domain.audit import POINTS_ACTIONS, AuditEntry, Outcome, Resolved, utcnow
from bot.domain.errors import LoyaltyError
from bot.i18n import speaking
from bot.slack import blocks
from handlers.context import Services, send_dm
from handlers.slackapi import SLACK_FAILED, why

log = logging.getLogger(__name__)

TOLD_WITHIN = dt.timedelta(days=1)  # settlements older than this are not told any more


def tell_settled(services: Services, client: WebClient, *, now: dt.datetime | None = None) -> int:
    """DM everyone whose change was settled later and has not been told; returns how many
    were told."""
    store = services.service.store
    since = (now or utcnow()) - TOLD_WITHIN
    told = 0
    for entry in store.entries(
        resolved=Resolved.RECONCILED, since=since, oldest_first=True, limit=None
    ):
        key = f"settled:{entry.id}"
        try:
            if not store.claim_once(key, entry.user_id):
                continue
        except LoyaltyError:
            return told  # the database is away: the next sweep
        if _tell(services, client, entry):
            told += 1
        else:
            store.release_once(key)
    return told


def _tell(services: Services, client: WebClient, entry: AuditEntry) -> bool:
    settings = services.settings
    with speaking(services.languages.of(client, entry.user_id)):
        message = blocks.change_settled(entry, _balance(services, entry), settings.tz)
    try:
        send_dm(client, entry.user_id, message)
    except SLACK_FAILED as exc:
        log.warning("could not tell %s how change #%d ended: %s", entry.user_id, entry.id, why(exc))
        return False
    if entry.outcome == Outcome.UNKNOWN and settings.loyalty_audit_channel:
        with speaking(settings.loyalty_language):
            flagged = blocks.change_flagged(entry)
        try:
            client.chat_postMessage(channel=settings.loyalty_audit_channel, **flagged.kwargs())
        except SLACK_FAILED as exc:
            log.warning("could not flag change #%d in the audit channel: %s", entry.id, why(exc))
    log.info("told %s how change #%d ended: %s", entry.user_id, entry.id, entry.outcome)
    return True


def _balance(services: Services, entry: AuditEntry) -> int | None:
    """The record's balance as the settlement left it (read now when it is unknown)."""
    if entry.action not in POINTS_ACTIONS or entry.target_id is None:
        return None
    if entry.outcome == Outcome.OK:
        return entry.after
    if entry.outcome == Outcome.FAILED:
        return entry.before
    try:
        return services.service.customer(entry.target_id).points
    except LoyaltyError:
        return None
