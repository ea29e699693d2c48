"""Every change is a small transaction with the world.

1. The caller holds the record's lock (`Ledger.locked`) and reads what it needs.
   If another change to the record is still in flight (its intent holds the record's
   fence: its process lost its lock or died, or its answer was unclear), nothing is read
   or sent: the person is told who started what and when (`Fenced`), after a short wait
   in case it is just completing. A fence older than `IN_FLIGHT` is settled on the spot
   (the service's `settle`, as reconcile would) and the change goes ahead.
2. `begin` writes the intent (outcome pending) with the record's fence: the unique index
   refuses a second one in the same write. If that fails, nothing is sent.
3. `carry_out` checks that the lock is still held, sends the change once and classifies
   the answer:
   refused (400/403/404/422) -> not applied; never sent -> not applied;
   anything else (5xx, timeout, dropped, unreadable, no record in the answer) -> unclear,
   and the change's check re-reads Smart Passes to decide: applied, not applied, or
   "could not tell" (OutcomeUnknown, naming what to check). After a timeout or a dropped
   connection, "not applied" cannot be told: Smart Passes may still be working on it.
4. The lock is checked again: if it was lost while the change was on its way, the answer
   counts as unclear and the change is checked. The entry is completed with the outcome,
   which lifts the fence, except for an unknown outcome: its request may still land, so
   the record stays fenced until `bot.core.reconcile` settles it. If the completing write
   fails the change still stands and is reported; the entry stays pending (and fenced)
   until it is reconciled.

Locks and fences are keyed by the Smart Passes program (`program`), not the workspace:
every workspace connected to one program meets the same ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from bot.core.intents import Done, Intent, Pending, Unclear
from bot.domain.audit import Action, Actor, AuditEntry, Outcome, Resolved, Target, utcnow
from bot.domain.errors import (
    ApiUnavailable,
    AuthenticationFailed,
    Duplicate,
    Fenced,
    LockLost,
    LoyaltyError,
    NotApplied,
    NotFound,
    OutcomeUnknown,
    RecordUnavailable,
    ValidationFailed,
)
from bot.domain.say import N_, Name, Person, Say, noun
from bot.store.database import FenceTaken, Store
from bot.store.locks import ChangeLocks, Held

log = logging.getLogger(__name__)
T = TypeVar("T")

# How long a change sent without a clear answer may still land at Smart Passes: far
# longer than the client waits for an answer. Only after it is "not applied" concluded.
IN_FLIGHT = dt.timedelta(minutes=2)
# A person who meets a fence waits this long for it to lift (its change completing).
FENCE_WAIT_SECONDS = 2.0
FENCE_POLL_SECONDS = 0.05
LOCK_LOST = N_("my hold on the record was lost while the change was on its way")

# The answers that prove Smart Passes did not apply the change.
REFUSALS = (ValidationFailed, AuthenticationFailed, NotFound)


class Ledger:
    def __init__(self, store: Store, locks: ChangeLocks, *, program: str = "") -> None:
        """`program`: the Smart Passes program the changes go to (LoyaltyClient.program),
        the scope of every lock and fence."""
        self.store = store
        self.locks = locks
        self.program = program
        # Settles a change in flight older than IN_FLIGHT (under its lock): True if it did.
        self.settle: Callable[[AuditEntry], bool] | None = None
        self._local = threading.local()

    def serve(self, program: str, settle: Callable[[AuditEntry], bool]) -> None:
        """Bind the ledger to the program its changes go to, and how to settle a change
        left in flight there (the service does this once, with its client)."""
        if not self.program:
            self.program = program
        self.settle = settle

    def scoped(self, key: str) -> str:
        """A record's key within the program: what its lock and its fence are."""
        return f"{self.program}|{key}" if self.program else key

    def fence_of(self, key: str) -> str:
        scoped = self.scoped(key)
        if len(scoped) <= 200:
            return scoped
        digest = hashlib.blake2b(scoped.encode(), digest_size=16).hexdigest()
        return f"{scoped[:160]}#{digest}"

    def _holds(self) -> dict[str, Held]:
        holds: dict[str, Held] | None = getattr(self._local, "holds", None)
        if holds is None:
            holds = self._local.holds = {}
        return holds

    @contextmanager
    def locked(self, key: str, what: str | Say, actor: Actor | None = None) -> Iterator[None]:
        """One change at a time to the record `key` ("customer:1870"), in every process,
        and none while a change to it is still in flight (its fence; Fenced, recorded as
        refused to `actor`)."""
        fence = self.fence_of(key)
        with self.locks.hold(self.scoped(key), what, fence=fence) as held:
            if held.fenced is not False:  # True, or not looked at while taking the lock
                self._wait_for_fence(key, actor)
            holds = self._holds()
            holds[key] = held
            try:
                yield
            finally:
                holds.pop(key, None)

    @contextmanager
    def try_locked(self, key: str) -> Iterator[bool]:
        """Hold `key` if nobody does right now (reconcile): True, else False at once."""
        with self.locks.try_hold(self.scoped(key)) as held:
            if held is None:
                yield False
                return
            holds = self._holds()
            holds[key] = held
            try:
                yield True
            finally:
                holds.pop(key, None)

    def _lost(self, intent: Intent) -> bool:
        """Has this thread's lock on the intent's record been lost (its session ended)?"""
        held = self._holds().get(intent.lock_key)
        return held is not None and held.lost()

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

    def refuse(
        self, actor: Actor, intent: Intent, detail: str | Say, *, with_changes: bool = False
    ) -> None:
        """Record a change the rules refused before anything was sent (best effort);
        `with_changes`: with what it would have changed (a sale: its amount)."""
        extra = {"changes": intent.changes} if with_changes else {}
        try:
            self._record(actor, intent, Outcome.REFUSED, detail=detail, **extra)
        except LoyaltyError:
            log.warning("a refusal could not be recorded: %s", detail)

    def begin(self, actor: Actor, intent: Intent) -> Pending:
        """Write the intent with its record's fence; RecordUnavailable if it cannot be
        written, Fenced (recorded) if another change to the record wrote its intent since
        the lock was taken (possible only if that process lost its lock). Nothing is sent
        in either case."""
        fence = self.fence_of(intent.lock_key)
        for _attempt in range(3):
            at = utcnow()
            try:
                entry_id = self._record(
                    actor, intent, Outcome.PENDING, at=at, changes=intent.changes, fence=fence
                )
                return Pending(entry_id, actor, intent, at)
            except FenceTaken:
                holder = self._fenced_by(fence)
            if holder is not None:
                raise self._fenced(holder, actor, intent.target_type, intent.target_id)
        raise RecordUnavailable()

    def _wait_for_fence(self, key: str, actor: Actor | None) -> None:
        """Under the record's lock, before anything is read: if a change to it is still in
        flight, wait a little for its own process to complete it; settle it here if its
        window has passed (it can no longer land); else Fenced. Reading the record before
        the fence lifts would give a balance the fenced change may be about to move."""
        fence = self.fence_of(key)
        patience = time.monotonic() + FENCE_WAIT_SECONDS
        while (holder := self._fenced_by(fence)) is not None:
            age = utcnow() - holder.at
            if age >= IN_FLIGHT and self.settle is not None and self.settle(holder):
                continue  # it could no longer land: settled here, as reconcile would
            if time.monotonic() >= patience:
                target = Target(holder.target_type) if holder.target_type else None
                raise self._fenced(holder, actor, target, holder.target_id)
            time.sleep(FENCE_POLL_SECONDS)  # its own process may be completing it

    def _fenced(
        self,
        holder: AuditEntry,
        actor: Actor | None,
        target_type: Target | None,
        target_id: int | None,
    ) -> Fenced:
        """What a person meeting `holder`'s fence is told (and the refusal, recorded)."""
        if actor is not None:
            self.refuse(
                actor,
                Intent(Action.REFUSED, target_type, target_id, holder.target_name),
                Say("another change (#{id}) was still in progress", id=holder.id),
            )
        other_workspace = bool(
            actor and actor.team_id and holder.team_id and holder.team_id != actor.team_id
        )
        age = utcnow() - holder.at
        return Fenced(
            Say("{name}", name=Name(holder.target_name))
            if holder.target_name
            else noun(N_("this record")),
            noun(N_("someone in another workspace connected to this program"))
            if other_workspace
            else Say("{who}", who=Person(holder.user_id)),
            age,
            dt.timedelta(minutes=max(1, math.ceil((IN_FLIGHT - age).total_seconds() / 60))),
        )

    def _fenced_by(self, fence: str) -> AuditEntry | None:
        try:
            return self.store.fenced_by(fence)
        except SQLAlchemyError:
            raise RecordUnavailable() from None

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
        """Complete the entry (lifting its fence, unless the outcome is unknown): the entry
        as completed, and False (logged) if the store could not take it right now (it stays
        pending there, and is settled later)."""
        try:
            recorded = self.store.complete(
                pending.entry_id, outcome, lift=outcome != Outcome.UNKNOWN, **values
            )
            if not recorded:  # settled meanwhile, by reconcile or a process meeting its fence
                log.info("audit entry %d was settled before its change completed", pending.entry_id)
                recorded = True
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
            detail=str(values.get("detail", "")),
            undone_at=None,
            requested=intent.requested,
            changes=values.get("changes", intent.changes),
            resolved=values.get("resolved", ""),
            via=pending.actor.via,
            detail_said=detail if isinstance(detail := values.get("detail"), Say) else None,
        )
        return entry, recorded

    def carry_out(
        self,
        pending: Pending,
        send: Callable[[], T | None],
        find_out: Callable[[], T | None],
        *,
        what: Say,
        look_hint: Say,
        completion: Callable[[T], dict[str, Any]] = lambda value: {},
    ) -> Done[T]:
        """Send once; settle an unclear answer with `find_out` (the value if applied, None if
        not, Unclear if it cannot tell); complete the entry; return or raise the truth.

        `what` names the change for people ("Adding 10 points to Juan Pérez"), and
        `look_hint` what to look at when nobody can tell ("the balance: `/loyalty ...`").

        The lock is checked before sending (lost: nothing is sent) and after the answer
        (lost: the answer is not trusted alone, the change is checked)."""
        problem, answered = "", True
        if self._lost(pending.intent):
            self.finish(pending, Outcome.FAILED, detail=Say("the lock was lost before sending"))
            raise LockLost()
        try:
            value = send()
            if value is None:
                problem = N_("Smart Passes answered without the updated record")
        except REFUSALS as exc:
            self.finish(pending, Outcome.REFUSED, detail=exc.say)
            raise
        except ApiUnavailable as exc:  # the request never left
            self.finish(pending, Outcome.FAILED, detail=exc.say)
            raise
        except OutcomeUnknown as exc:
            value, problem = None, exc.cause or N_("no clear answer came back")
            answered = exc.answered
        if value is not None and self._lost(pending.intent):
            return self._checked_after_lost_lock(pending, find_out, what, look_hint, completion)
        if value is not None:
            entry, recorded = self.finish(pending, Outcome.OK, **completion(value))
            return Done(value, entry, recorded=recorded)
        try:
            value = find_out()
        except Unclear as unclear:
            self.finish(pending, Outcome.UNKNOWN, detail=_because(problem, unclear.why))
            raise OutcomeUnknown(
                Say(
                    "{what} was sent, but {problem}, and I could not tell whether it was "
                    "applied ({unclear}). Check {hint} before trying again.",
                    what=what,
                    problem=noun(problem),
                    unclear=unclear.why,
                    hint=look_hint,
                )
            ) from None
        if value is None and not answered:
            # Nothing shows yet, but with no answer Smart Passes may still be working on it.
            self.finish(
                pending,
                Outcome.UNKNOWN,
                detail=Say("{problem}; checked: not applied yet", problem=noun(problem)),
            )
            raise OutcomeUnknown(
                Say(
                    "{what} was sent, but {problem}. The change does not show yet, but Smart "
                    "Passes may still be working on it, so it may or may not have been "
                    "applied. Check {hint} in a minute before trying again.",
                    what=what,
                    problem=noun(problem),
                    hint=look_hint,
                )
            )
        if value is None:
            self.finish(
                pending,
                Outcome.FAILED,
                detail=Say("{problem}; checked: not applied", problem=noun(problem)),
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

    def _checked_after_lost_lock(
        self,
        pending: Pending,
        find_out: Callable[[], T | None],
        what: Say,
        look_hint: Say,
        completion: Callable[[T], dict[str, Any]],
    ) -> Done[T]:
        """Smart Passes applied the change, but the lock was lost on the way: whatever was
        read under it may be stale, so the record is read again and must show exactly this
        change. Anything else is unknown (and stays fenced until reconciled)."""
        try:
            value = find_out()
            if value is None:
                raise Unclear(
                    Say("Smart Passes said it was applied, but the record does not show it")
                )
        except Unclear as unclear:
            self.finish(pending, Outcome.UNKNOWN, detail=_because(LOCK_LOST, unclear.why))
            raise OutcomeUnknown(
                Say(
                    "{what} was applied by Smart Passes, but {problem}, and the record does "
                    "not match it ({unclear}). Check {hint} before changing it again.",
                    what=what,
                    problem=noun(LOCK_LOST),
                    unclear=unclear.why,
                    hint=look_hint,
                )
            ) from None
        entry, recorded = self.finish(
            pending, Outcome.OK, resolved=Resolved.CHECKED, detail=LOCK_LOST, **completion(value)
        )
        return Done(value, entry, checked=True, recorded=recorded, note=LOCK_LOST)


def _because(problem: str, unclear: Say) -> Say:
    """An unknown outcome's detail: what happened, then why checking could not tell."""
    return Say("{problem}; {unclear}", problem=noun(problem), unclear=unclear)
