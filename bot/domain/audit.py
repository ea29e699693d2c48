"""The audit log's vocabulary: who acted, what they did, how it ended, and what changed.

Every change is written first as a `pending` entry (the intent), then completed with its
outcome. `resolved` says how an unclear answer was settled.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, overload

from bot.domain.say import Say


class Target(StrEnum):
    """What kind of record an entry is about."""

    CUSTOMER = "customer"
    OFFER = "offer"
    PROMOTION = "promotion"


class Action(StrEnum):
    POINTS_ADD = "points.add"
    POINTS_DEDUCT = "points.deduct"
    POINTS_SET = "points.set"
    POINTS_UNDO = "points.undo"
    POINTS_REDEEM = "points.redeem"  # a reward redeemed: the offer's cost deducted
    POINTS_SALE = "points.sale"  # points earned by a sale (its amount, rule, promotions)
    CUSTOMER_CREATE = "customer.create"
    CUSTOMER_UPDATE = "customer.update"
    CUSTOMER_DELETE = "customer.delete"
    OFFER_CREATE = "offer.create"
    OFFER_UPDATE = "offer.update"
    OFFER_DELETE = "offer.delete"
    OFFER_CANCEL = "offer.cancel"
    OFFER_PUBLISH = "offer.publish"
    PUBLISH_REQUEST = "offer.publish_request"
    PUBLISH_APPROVE = "offer.publish_approve"
    PUBLISH_REJECT = "offer.publish_reject"
    PROMOTION_CREATE = "promotion.create"
    PROMOTION_PAUSE = "promotion.pause"
    PROMOTION_RESUME = "promotion.resume"
    PROMOTION_END = "promotion.end"
    REFUSED = "refused"  # a role refusal

    @property
    def target_type(self) -> Target | None:
        kind = self.value.partition(".")[0]
        return Target(kind) if kind in tuple(Target) else None


POINTS_ACTIONS = (
    Action.POINTS_ADD,
    Action.POINTS_DEDUCT,
    Action.POINTS_SET,
    Action.POINTS_UNDO,
    Action.POINTS_REDEEM,
    Action.POINTS_SALE,
)
# The changes that give points (what the clerk allowance and the alerts count).
GIVING_ACTIONS = (Action.POINTS_ADD, Action.POINTS_SALE)


class Outcome(StrEnum):
    PENDING = "pending"  # written before the call; still in progress, or its process died
    OK = "ok"  # applied
    REFUSED = "refused"  # not applied: the rules or Smart Passes said no
    FAILED = "failed"  # not applied: Smart Passes could not be reached, or checking showed so
    UNKNOWN = "unknown"  # sent, and neither the answer nor a check could tell


class Resolved(StrEnum):
    """How the outcome was learned."""

    ANSWER = ""  # from Smart Passes' answer
    CHECKED = "checked"  # the answer was unclear; re-reading the record settled it
    RECONCILED = "reconciled"  # left pending by a process that stopped; settled later


@dataclass(frozen=True)
class Actor:
    """Who did something: the Slack user and workspace every audit entry names."""

    user_id: str
    team_id: str = ""
    via: str = ""  # how it reached the bot, when not typed or clicked: a workflow's name


# {field: [before, after]}, JSON in the store. Field names are the models' own.
Changes = dict[str, list[Any]]


def field_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> Changes:
    """The fields whose value differs (all of `after` when there is no `before`)."""
    if before is None:
        return {k: [None, v] for k, v in after.items() if v not in ("", None)}
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def dump_changes(changes: Changes | None) -> str:
    return json.dumps(changes, ensure_ascii=False, sort_keys=True) if changes else ""


def load_changes(text: str | None) -> Changes:
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@overload
def as_utc(value: dt.datetime) -> dt.datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes: they were stored as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: dt.datetime
    team_id: str
    user_id: str
    action: str
    target_type: str
    target_id: int | None
    target_name: str
    before: int | None
    after: int | None
    reason: str
    outcome: str
    detail: str
    undone_at: dt.datetime | None
    requested: str = ""  # what was asked: "+10", "=25", or the submitted fields as JSON
    changes: Changes = field(default_factory=dict)
    resolved: str = ""
    fence: str | None = None  # set while the change is in flight (bot.core.ledger)
    via: str = ""  # a Workflow Builder step: the workflow's name (Actor.via)
    # The detail as it was said (its template and values), for readers of another language;
    # None for entries whose detail is only the English text.
    detail_said: Say | None = None

    @property
    def is_points(self) -> bool:
        return self.action in POINTS_ACTIONS

    @property
    def delta(self) -> int | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before
