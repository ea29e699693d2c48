"""What the bot keeps besides the audit log, as the domain sees it: publication requests,
confirmations waiting for their button, and the daily summary's snapshots. (The store
maps them to and from rows.)"""

from __future__ import annotations

import datetime as dt
from array import array
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.say import Say


class ApprovalState(StrEnum):
    PENDING = "pending"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    FAILED = "failed"  # publishing did not go through; a manager may try again
    REJECTED = "rejected"
    STALE = "stale"  # the offer changed or went away: nothing to approve


OPEN_STATES = (ApprovalState.PENDING, ApprovalState.FAILED)  # waiting for a manager


@dataclass(frozen=True)
class Approval:
    id: int
    offer_id: int
    offer_name: str
    description: str
    points_cost: int
    auto_claim: bool
    fingerprint: str
    team_id: str
    requested_by: str
    requested_at: dt.datetime
    channel_id: str
    message_ts: str | None
    permalink: str | None
    state: str
    decided_by: str | None
    decided_at: dt.datetime | None
    note: str  # why it is closed or failed, as plain text (a rejection: its reason)
    note_said: Say | None = None  # the bot's own note as said, for each reader's language

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class ConfirmationState(StrEnum):
    PENDING = "pending"
    WORKING = "working"  # one click won and is acting
    DONE = "done"


@dataclass(frozen=True)
class Confirmation:
    token: str
    kind: str  # the Action it confirms
    target_id: int
    target_name: str
    requested_by: str
    created_at: dt.datetime
    state: str
    done_by: str | None
    done_at: dt.datetime | None


@dataclass(frozen=True)
class Snapshot:
    day: str
    taken_at: dt.datetime
    customers: int
    points_total: int
    customer_ids: array[int]  # sorted int64 ids
