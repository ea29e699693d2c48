"""Every change is a small transaction with the world.

1. The caller holds the record's lock (`Ledger.locked`) and reads what it needs.
2. `begin` writes the intent (outcome pending). If that fails, nothing is sent.
3. `carry_out` sends the change once and classifies the answer:
   refused (400/403/404/422) -> not applied; never sent -> not applied;
   anything else (5xx, timeout, dropped, unreadable, no record in the answer) -> unclear,
   and the change's check re-reads Smart Passes to decide: applied, not applied, or
   "could not tell" (OutcomeUnknown, naming what to check). After a timeout or a dropped
   connection, "not applied" cannot be told: Smart Passes may still be working on it.
4. The entry is completed with the outcome. If that write fails the change still stands
   and is reported; the entry stays pending and `bot.reconcile` settles it later.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from bot.core.audit import Action, Actor, AuditEntry, Changes, Outcome, Resolved, Target, utcnow
from bot.core.errors import (
    ApiUnavailable,
    AuthenticationFailed,
    Duplicate,
    LoyaltyError,
    NotApplied,
    NotFound,
    OutcomeUnknown,
    ValidationFailed,
)
from bot.core.phones import digits as phone_digits
from bot.core.say import N_, Say, noun
from bot.core.text_keys import fold
from bot.store.database import Store
from bot.store.locks import ChangeLocks

log = logging.getLogger(__name__)
T = TypeVar("T")

# The answers that prove Smart Passes did not apply the change.
REFUSALS = (ValidationFailed, AuthenticationFailed, NotFound)


class Unclear(Exception):
    """A check could not tell whether the change was applied; the text says why."""


@dataclass(frozen=True)
class Intent:
    """One change about to be sent, as the audit entry records it (and a check reads it)."""

    action: Action
    target_type: Target | None
    target_id: int | None
    target_name: str
    before: int | None = None  # points before a points change
    requested: str = ""  # "+10", "=25"; for a create, JSON of the fields (see `created`)
    changes: Changes = field(default_factory=dict)  # {field: [now, wanted]} for an edit
    reason: str = ""

    @classmethod
    def of(cls, entry: AuditEntry) -> Intent:
        return cls(
            action=Action(entry.action),
            target_type=Target(entry.target_type) if entry.target_type else None,
            target_id=entry.target_id,
            target_name=entry.target_name,
            before=entry.before,
            requested=entry.requested,
            changes=entry.changes,
            reason=entry.reason,
        )

    @staticmethod
    def creating(fields: dict[str, Any], known_ids: set[int]) -> str:
        """`requested` for a create: the fields, and the ids that matched them before."""
        return json.dumps({"fields": fields, "known": sorted(known_ids)}, ensure_ascii=False)

    def created(self) -> tuple[dict[str, Any], set[int]]:
        data = json.loads(self.requested or "{}")
        return dict(data.get("fields") or {}), set(data.get("known") or [])

    @property
    def lock_key(self) -> str:
        """The lock its change holds: the record's, or for a create the new record's."""
        if self.target_id is not None:
            return record_key(self.target_type, self.target_id)
        return creation_key(self.target_type, self.created()[0])


def record_key(target_type: Target | None, target_id: int) -> str:
    return f"{target_type}:{target_id}"


def creation_key(target_type: Target | None, fields: dict[str, Any]) -> str:
    """Two creates of the same customer (email, else phone, else name) or the same offer
    (name) are serialised, so the second one's check cannot mistake the first's record."""
    if target_type == Target.OFFER:
        return f"offer-new:{fold(fields.get('name') or '')}"
    identity = (
        (fields.get("email") or "").strip().casefold()
        or phone_digits(fields.get("phone") or "")
        or fold(f"{fields.get('first_name') or ''} {fields.get('last_name') or ''}".strip())
    )
    return f"customer-new:{identity}"


@dataclass(frozen=True)
class Pending:
    """An intent written to the store: the change may now be sent."""

    entry_id: int
    actor: Actor
    intent: Intent
    at: dt.datetime


@dataclass(frozen=True)
class Done(Generic[T]):
    """A change that was applied, and its audit entry as completed."""

    value: T
    entry: AuditEntry | None  # None when nothing needed changing
    checked: bool = False  # the answer was unclear; re-reading showed it was applied
    recorded: bool = True  # False: the entry could not be completed (it will be, later)
    note: str = ""  # what was unclear, for the person

    @property
    def remarks(self) -> list[Say]:
        """What the person should know beyond "done"."""
        said = []
        if self.checked:
            said.append(
                Say(
                    "{problem}, but checking showed the change was applied.",
                    problem=noun(self.note),
                )
            )
        if not self.recorded:
            said.append(
                Say(
                    "The change is made, but I could not finish writing it to my records; "
                    "they will be completed automatically."
                )
            )
        return said


class Ledger:
    def __init__(self, store: Store, locks: ChangeLocks) -> None:
        self.store = store
        self.locks = locks

    @contextmanager
    def locked(self, key: str, what: str | Say) -> Iterator[None]:
        """One change at a time to the record `key` ("customer:1870"), in every process."""
        with self.locks.hold(key, what):
            yield

    @contextmanager
    def once(
        self, key: str, user_id: str = "", *, again: Say | str | Callable[[], Say | str] = ""
    ) -> Iterator[None]:
        """Act at most once for `key` (a command's trigger id, a button's one-time token, a
        form submission): AlreadyDone, saying `again`, if it was claimed before. When the
        action ends with an error that proves nothing changed, the key is released so it
        can be tried again; after anything else (done, unknown, a bug) it stays claimed."""
        if not self.store.claim_once(key, user_id):
            said = again() if callable(again) else again
            raise Duplicate(
                said
                or Say(
                    "I already received that (a double click, or a request sent twice), so it "
                    "was not done again."
                )
            )
        try:
            yield
        except LoyaltyError as exc:
            if exc.safe_to_retry:
                try:
                    self.store.release_once(key)
                except SQLAlchemyError:
                    log.warning("one-time key %s could not be released", key)
            raise

    def refuse(self, actor: Actor, intent: Intent, detail: str) -> None:
        """Record a change the rules refused before anything was sent (best effort)."""
        try:
            self._record(actor, intent, Outcome.REFUSED, detail=detail)
        except LoyaltyError:
            log.warning("a refusal could not be recorded: %s", detail)

    def begin(self, actor: Actor, intent: Intent) -> Pending:
        """Write the intent; RecordUnavailable (and nothing sent) if it cannot be written."""
        at = utcnow()
        entry_id = self._record(actor, intent, Outcome.PENDING, at=at, changes=intent.changes)
        return Pending(entry_id, actor, intent, at)

    def _record(self, actor: Actor, intent: Intent, outcome: Outcome, **extra: Any) -> int:
        return self.store.record_by(
            actor,
            action=intent.action,
            outcome=outcome,
            target_type=intent.target_type or "",
            target_id=intent.target_id,
            target_name=intent.target_name,
            before=intent.before,
            reason=intent.reason,
            requested=intent.requested,
            **extra,
        )

    def finish(self, pending: Pending, outcome: Outcome, **values: Any) -> tuple[AuditEntry, bool]:
        """Complete the entry: the entry as completed, and False (logged) if the store could
        not take it right now (it stays pending there, and is settled later)."""
        try:
            recorded = self.store.complete(pending.entry_id, outcome, **values)
        except LoyaltyError:
            log.warning(
                "audit entry %d stays pending (%s): the store is unavailable",
                pending.entry_id,
                outcome,
            )
            recorded = False
        intent = pending.intent
        entry = AuditEntry(
            id=pending.entry_id,
            at=pending.at,
            team_id=pending.actor.team_id,
            user_id=pending.actor.user_id,
            action=intent.action,
            target_type=intent.target_type or "",
            target_id=values.get("target_id", intent.target_id),
            target_name=values.get("target_name", intent.target_name),
            before=intent.before,
            after=values.get("after"),
            reason=intent.reason,
            outcome=outcome,
            detail=values.get("detail", ""),
            undone_at=None,
            requested=intent.requested,
            changes=values.get("changes", intent.changes),
            resolved=values.get("resolved", ""),
        )
        return entry, recorded

    def carry_out(
        self,
        pending: Pending,
        send: Callable[[], T | None],
        check: Callable[[], T | None],
        *,
        what: Say,
        check_hint: Say,
        completion: Callable[[T], dict[str, Any]] = lambda value: {},
    ) -> Done[T]:
        """Send once; settle an unclear answer with `check` (the value if applied, None if
        not, Unclear if it cannot tell); complete the entry; return or raise the truth.

        `what` names the change for people ("Adding 10 points to Juan Pérez"), and
        `check_hint` what to look at when nobody can tell ("the balance: `/loyalty ...`")."""
        problem, answered = "", True
        try:
            value = send()
            if value is None:
                problem = N_("Smart Passes answered without the updated record")
        except REFUSALS as exc:
            self.finish(pending, Outcome.REFUSED, detail=exc.message)
            raise
        except ApiUnavailable as exc:  # the request never left
            self.finish(pending, Outcome.FAILED, detail=exc.message)
            raise
        except OutcomeUnknown as exc:
            value, problem = None, exc.cause or N_("no clear answer came back")
            answered = exc.answered
        if value is not None:
            entry, recorded = self.finish(pending, Outcome.OK, **completion(value))
            return Done(value, entry, recorded=recorded)
        try:
            value = check()
        except Unclear as unclear:
            self.finish(pending, Outcome.UNKNOWN, detail=f"{problem}; {unclear}")
            raise OutcomeUnknown(
                Say(
                    "{what} was sent, but {problem}, and I could not tell whether it was "
                    "applied ({unclear}). Check {hint} before trying again.",
                    what=what,
                    problem=noun(problem),
                    unclear=str(unclear),
                    hint=check_hint,
                )
            ) from None
        if value is None and not answered:
            # Nothing shows yet, but with no answer Smart Passes may still be working on it.
            self.finish(pending, Outcome.UNKNOWN, detail=f"{problem}; checked: not applied yet")
            raise OutcomeUnknown(
                Say(
                    "{what} was sent, but {problem}. The change does not show yet, but Smart "
                    "Passes may still be working on it, so it may or may not have been "
                    "applied. Check {hint} in a minute before trying again.",
                    what=what,
                    problem=noun(problem),
                    hint=check_hint,
                )
            )
        if value is None:
            self.finish(
                pending,
                Outcome.FAILED,
                detail=f"{problem}; checked: not applied",
                resolved=Resolved.CHECKED,
            )
            raise NotApplied(
                Say(
                    "{what} did not go through: {problem}, and checking showed nothing was "
                    "changed. It is safe to try again.",
                    what=what,
                    problem=noun(problem),
                )
            )
        entry, recorded = self.finish(
            pending, Outcome.OK, resolved=Resolved.CHECKED, detail=problem, **completion(value)
        )
        return Done(value, entry, checked=True, recorded=recorded, note=problem)
