"""Settle the audit entries left open: pending (by a process that stopped mid-change, or
one that could not write the outcome: its database was down), or completed as unknown
while their request may still land. Either way the entry still fences its record.

An entry is settled only under its record's lock, taken without waiting: whoever holds it
is still making that change, and will settle it. Each entry is checked against Smart
Passes as right after an unclear answer (`bot.core.outcomes`). For a points change, the
balance a later change read first is the witness, but only if that change began after
this one's in-flight window (`IN_FLIGHT`): a balance read while this change may still
have been on its way proves nothing. A later change that began inside the window, or a
balance that matches neither the chain's before nor its after, is flagged (unknown), never
explained away.

An open entry's process never got its answer, so its request may still be on its way: a
change that shows is settled at once, but "not applied" (or "cannot tell") is only
concluded once the entry is older than `IN_FLIGHT`; younger ones wait for a later run.
Settling lifts the fence. Run at the start of every serving process and every minute
after, by `loyalty-bot reconcile`, and by a change that meets an old fence.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from bot.core.intents import Intent, Unclear
from bot.core.ledger import IN_FLIGHT, Ledger
from bot.core.outcomes import expected_balance, was_applied
from bot.domain.audit import POINTS_ACTIONS, Action, AuditEntry, Outcome, Resolved, Target, utcnow
from bot.domain.errors import LoyaltyError
from bot.domain.records import ApprovalState
from bot.domain.say import Say
from bot.smartpasses.client import LoyaltyClient
from bot.smartpasses.models import Customer, Offer
from bot.store.database import Store

log = logging.getLogger(__name__)

ONCE_KEYS_KEPT = dt.timedelta(days=7)
SETTLE_AFTER = IN_FLIGHT  # "not applied" is concluded only after this


@dataclass(frozen=True)
class Settled:
    entry: AuditEntry
    outcome: Outcome
    note: str

    def __str__(self) -> str:
        e = self.entry
        target = f"{e.target_type} {e.target_id or ''} {e.target_name}".strip()
        return (
            f"#{e.id} {e.action} {target} ({e.at:%Y-%m-%d %H:%M} UTC): {self.outcome}, {self.note}"
        )


def reconcile(
    api: LoyaltyClient, store: Store, ledger: Ledger, *, now: dt.datetime | None = None
) -> list[Settled]:
    """Settle every open entry nobody is working on; returns what was settled."""
    now = now or utcnow()
    settled = []
    for entry in store.unsettled():
        with ledger.try_locked(Intent.of(entry).lock_key) as free:
            if not free:
                continue  # its change is still being made
            result = settle_entry(api, store, entry, now=now)
        if result is not None:
            log.info("reconciled: %s", result)
            settled.append(result)
    store.prune_once(now - ONCE_KEYS_KEPT)
    return settled


def still_pending(store: Store) -> int:
    return len(store.unsettled())


def settle_entry(
    api: LoyaltyClient, store: Store, entry: AuditEntry, *, now: dt.datetime | None = None
) -> Settled | None:
    """Settle one open entry, under its record's lock (the caller holds it): None when it
    is settled already or too young to conclude anything but "applied". The entry may be
    another workspace's on the same program: it is completed in its own."""
    if store.workspace is not None and entry.team_id and entry.team_id != store.workspace:
        store = store.for_workspace(entry.team_id)
    latest = store.entry(entry.id)
    if latest is None or (latest.outcome != Outcome.PENDING and latest.fence is None):
        return None
    old = latest.at < (now or utcnow()) - IN_FLIGHT
    return _settle(api, store, latest, Intent.of(latest), old=old)


def _settle(
    api: LoyaltyClient, store: Store, entry: AuditEntry, intent: Intent, *, old: bool
) -> Settled | None:
    """Settle one entry; None when it is too young to conclude anything but "applied"."""
    if entry.action in (Action.PUBLISH_REQUEST, Action.PUBLISH_REJECT):
        applied = _settled_in_store(store, entry)
        if not applied and not old:
            return None
        outcome = Outcome.OK if applied else Outcome.FAILED
        note = Say("done") if applied else Say("not done: the process stopped first")
        store.complete(entry.id, outcome, resolved=Resolved.RECONCILED, detail=note)
        return Settled(entry, outcome, str(note))
    try:
        value = was_applied(api, intent, _witness(store, entry))
    except Unclear as unclear:
        if not old:
            return None
        note = Say("could not tell: {unclear}", unclear=unclear.why)
        store.complete(entry.id, Outcome.UNKNOWN, resolved=Resolved.RECONCILED, detail=note)
        return Settled(entry, Outcome.UNKNOWN, str(note))
    if value is None:
        if not old:
            return None  # its request may still be on its way
        note = Say("checked later: not applied")
        store.complete(entry.id, Outcome.FAILED, resolved=Resolved.RECONCILED, detail=note)
        return Settled(entry, Outcome.FAILED, str(note))
    values: dict[str, Any] = {}
    if isinstance(value, Customer):
        values = {"target_id": value.id, "target_name": value.display_name}
        if entry.action in POINTS_ACTIONS:
            # What the change left (a later change may have moved the balance since).
            values["after"] = expected_balance(intent)
    elif isinstance(value, Offer):
        values = {"target_id": value.id, "target_name": value.name}
    note = Say("checked later: applied")
    store.complete(entry.id, Outcome.OK, resolved=Resolved.RECONCILED, detail=note, **values)
    return Settled(entry, Outcome.OK, str(note))


def _witness(store: Store, entry: AuditEntry) -> int | None:
    """For a points change: the balance the next completed change to that customer read
    first, if it began after this one's in-flight window. Unclear if one began inside it
    (what it read may be from before this change landed)."""
    if entry.action not in POINTS_ACTIONS:
        return None
    later = store.entries(
        target_type=Target.CUSTOMER,
        target_id=entry.target_id,
        actions=POINTS_ACTIONS,
        outcome=Outcome.OK,
        after_id=entry.id,
        oldest_first=True,
        limit=5,
    )
    for change in later:
        if change.before is None:
            continue
        if change.at < entry.at + IN_FLIGHT:
            raise Unclear(
                Say(
                    "change #{id} read the balance ({before:,}) while this one may still have "
                    "been on its way, so the record's chain cannot tell",
                    id=change.id,
                    before=change.before,
                )
            )
        return change.before
    return None


def _settled_in_store(store: Store, entry: AuditEntry) -> bool:
    """A request posted, or a rejection made, shows in the bot's own approvals table."""
    assert entry.target_id is not None
    since = entry.at - dt.timedelta(minutes=5)  # the clocks of two processes may differ
    for approval in store.approvals_for(entry.target_id, since=since):
        if (
            entry.action == Action.PUBLISH_REQUEST
            and approval.requested_by == entry.user_id
            and approval.message_ts
        ):
            return True
        if (
            entry.action == Action.PUBLISH_REJECT
            and approval.state == ApprovalState.REJECTED
            and approval.decided_by == entry.user_id
        ):
            return True
    return False


def reconcile_quietly(api: LoyaltyClient, store: Store, ledger: Ledger) -> list[Settled]:
    """For the background sweep: a failure is logged and tried again next time."""
    try:
        return reconcile(api, store, ledger)
    except LoyaltyError as exc:
        log.warning("reconcile could not finish: %s", exc.message)
    except Exception:  # the next sweep tries again; the serving process carries on
        log.exception("reconcile failed")
    return []
