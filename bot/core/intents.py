"""What a change is, as the ledger carries it: its intent (what, to whom, for which\nrecord), the pending entry once recorded, and what it did (Done)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from bot.domain.audit import Action, Actor, AuditEntry, Changes, Target
from bot.domain.say import Say, noun
from bot.domain.text_keys import fold, phone_digits

T = TypeVar("T")


class Unclear(Exception):
    """A check could not tell whether the change was applied: `why` says why, in words the
    person reads inside a sentence of ours (the text, in English, is for the record)."""

    def __init__(self, why: Say) -> None:
        self.why = why
        super().__init__(str(why))


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
