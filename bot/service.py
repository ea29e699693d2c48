"""What the bot does, without Slack: every change goes through here and into the audit log."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from bot.errors import (
    AlreadyDone,
    ChangeRefused,
    InvalidInput,
    LoyaltyAPIError,
    NotFound,
    OutcomeUnknown,
    StaleForm,
)
from bot.forms import CustomerFields, OfferFields
from bot.lookup import CustomerIndex, LookupResult, fold
from bot.loyalty_api import LoyaltyClient
from bot.models import Customer, Offer
from bot.points import Op, PointsChange
from bot.roles import Roles
from bot.store import (
    FAILED,
    OK,
    POINTS_ACTIONS,
    POINTS_ADD,
    POINTS_DEDUCT,
    POINTS_SET,
    POINTS_UNDO,
    REFUSED,
    UNKNOWN,
    Actor,
    AuditEntry,
    Store,
    utcnow,
)

OFFER_STATUSES = ("draft", "published", "canceled")
CUSTOMER_DELETE, OFFER_DELETE, OFFER_CANCEL = "customer.delete", "offer.delete", "offer.cancel"
# What each confirmation does, as the role refusal words it.
CONFIRMABLE = {
    CUSTOMER_DELETE: "delete customers",
    OFFER_DELETE: "delete offers",
    OFFER_CANCEL: "cancel offers",
}
_Editable = TypeVar("_Editable", Customer, Offer)
_ACTION_FOR = {Op.ADD: POINTS_ADD, Op.DEDUCT: POINTS_DEDUCT, Op.SET: POINTS_SET}


@dataclass(frozen=True)
class PointsResult:
    customer: Customer
    before: int
    after: int
    reason: str
    entry_id: int
    actor: Actor

    @property
    def delta(self) -> int:
        return self.after - self.before


@dataclass(frozen=True)
class CustomerPage:
    query: str
    customers: list[Customer]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def has_more(self) -> bool:
        return self.page < self.pages

    @property
    def first_number(self) -> int:
        return (self.page - 1) * self.page_size + 1


class LoyaltyService:
    def __init__(
        self,
        api: LoyaltyClient,
        store: Store,
        roles: Roles,
        *,
        max_points: int = 1000,
        undo_minutes: int = 15,
        lookup_ttl: float = 60.0,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.api = api
        self.store = store
        self.roles = roles
        self.max_points = max_points
        self.undo_window = dt.timedelta(minutes=undo_minutes)
        self.index = CustomerIndex(api.list_customers, ttl=lookup_ttl)
        self._clock = clock

    # -- reading ---------------------------------------------------------

    def find_customers(self, reference: str) -> LookupResult:
        return self.index.find(reference)

    def customer(self, customer_id: int) -> Customer:
        """A fresh read (the index may be up to a TTL old)."""
        try:
            customer = self.api.get_customer(customer_id)
        except NotFound:
            self.index.remove(customer_id)
            raise
        self.index.upsert(customer)
        return customer

    def customers_page(self, query: str = "", page: int = 1, page_size: int = 20) -> CustomerPage:
        query = query.strip()
        matches = self.index.find(query).matches if query else self.index.all()
        page = max(1, page)
        start = (page - 1) * page_size
        return CustomerPage(
            query, matches[start : start + page_size], len(matches), page, page_size
        )

    def offers(self, status: str | None = None) -> list[Offer]:
        wanted = fold(status or "").strip()
        if wanted and wanted not in OFFER_STATUSES and wanted != "cancelled":
            raise InvalidInput(
                f"“{status}” is not an offer status: use draft, published or canceled."
            )
        offers = self.api.list_offers()
        if wanted == "draft":
            offers = [o for o in offers if o.is_draft]
        elif wanted == "published":
            offers = [o for o in offers if o.is_published]
        elif wanted:
            offers = [o for o in offers if o.is_canceled]
        return sorted(offers, key=lambda o: (o.status_key, fold(o.name)))

    def history(self, customer_id: int, limit: int = 15) -> list[AuditEntry]:
        return self.store.entries(target_type="customer", target_id=customer_id, limit=limit)

    # -- points ----------------------------------------------------------

    def change_points(
        self, actor: Actor, customer_id: int, change: PointsChange, reason: str = ""
    ) -> PointsResult:
        self.roles.require_manager(
            actor.user_id,
            "change points",
            team_id=actor.team_id,
            target_type="customer",
            target_id=customer_id,
        )
        action = _ACTION_FOR[change.op]
        customer = self.customer(customer_id)  # the balance read immediately before
        old = customer.points
        new = change.new_balance(old)
        refusal = self._refusal(customer, change, old, new)
        if refusal:
            self._record(actor, action, customer, REFUSED, old, None, reason, refusal)
            raise ChangeRefused(refusal)
        try:
            if change.op is Op.ADD:
                updated = self.api.add_points(customer.id, change.amount) or self.api.get_customer(
                    customer.id
                )
            else:
                updated = self.api.update_customer(customer.id, points=new)
        except OutcomeUnknown as exc:
            self._record(actor, action, customer, UNKNOWN, old, None, reason, exc.message)
            self.index.invalidate()
            raise
        except LoyaltyAPIError as exc:
            self._record(actor, action, customer, FAILED, old, None, reason, exc.message)
            raise
        self.index.upsert(updated)
        entry_id = self._record(
            actor, action, updated, OK, old, updated.points, reason, str(change)
        )
        return PointsResult(updated, old, updated.points, reason, entry_id, actor)

    def _refusal(self, customer: Customer, change: PointsChange, old: int, new: int) -> str:
        name = customer.display_name
        if new < 0:
            return (
                f"{name} has {old:,} points, so deducting {change.amount:,} would leave "
                f"{new:,}. Balances cannot go below zero; nothing was changed."
            )
        if change.op is Op.SET and new == old:
            return f"{name} already has {old:,} points; nothing was changed."
        if abs(new - old) > self.max_points:
            return (
                f"Setting {name} to {new:,} would change the balance by {abs(new - old):,} points, "
                f"more than the largest single change allowed ({self.max_points:,})."
            )
        return ""

    def undo_last(self, actor: Actor) -> PointsResult:
        self.roles.require_manager(actor.user_id, "undo points changes", team_id=actor.team_id)
        recent = self.store.entries(
            user_id=actor.user_id,
            actions=[a for a in POINTS_ACTIONS if a != POINTS_UNDO],
            outcome=OK,
            limit=1,
        )
        if not recent:
            raise ChangeRefused("You have no points change to undo.")
        entry = recent[0]
        what = f"your last change ({_signed(entry)} for {entry.target_name})"
        if entry.undone_at is not None:
            raise ChangeRefused(f"Nothing to undo: {what} was already undone.")
        age = self._clock() - entry.at
        if age > self.undo_window:
            minutes = int(self.undo_window.total_seconds() // 60)
            raise ChangeRefused(
                f"Too late to undo {what}: it was made {_ago(age)} ago, and only changes from "
                f"the last {minutes} minutes can be undone. Change the points by hand instead."
            )
        assert entry.target_id is not None and entry.before is not None
        try:
            current = self.customer(entry.target_id)
        except NotFound:
            raise ChangeRefused(f"Cannot undo {what}: the customer no longer exists.") from None
        if current.points != entry.after:
            raise ChangeRefused(
                f"Cannot undo {what}: the balance changed since (it is now {current.points:,}, "
                f"your change left {entry.after:,}). Nothing was changed."
            )
        if not self.store.claim_undo(entry.id):
            raise ChangeRefused(f"Nothing to undo: {what} was already undone.")
        reason = f"undo of change #{entry.id}"
        try:
            updated = self.api.update_customer(current.id, points=entry.before)
        except LoyaltyAPIError as exc:
            self.store.release_undo(entry.id)
            self._record(
                actor, POINTS_UNDO, current, FAILED, current.points, None, reason, exc.message
            )
            raise
        self.index.upsert(updated)
        entry_id = self._record(
            actor,
            POINTS_UNDO,
            updated,
            OK,
            current.points,
            updated.points,
            reason,
            f"={entry.before}",
        )
        return PointsResult(updated, current.points, updated.points, reason, entry_id, actor)

    # -- customers -------------------------------------------------------------------

    def create_customer(self, actor: Actor, fields: CustomerFields) -> Customer:
        with self._failure_recorded(actor, "customer.create", "customer", None, fields.first_name):
            created = self.api.create_customer(**fields.api_body())
        self.index.upsert(created)
        self._record_other(
            actor, "customer.create", "customer", created.id, created.display_name, OK
        )
        return created

    def update_customer(
        self, actor: Actor, customer_id: int, fields: CustomerFields, fingerprint: str
    ) -> Customer:
        current = self._unchanged(
            lambda: self.customer(customer_id), "customer", lambda c: c.display_name, fingerprint
        )
        with self._failure_recorded(
            actor, "customer.update", "customer", current.id, current.display_name
        ):
            updated = self.api.update_customer(current.id, **fields.api_body())
        self.index.upsert(updated)
        self._record_other(
            actor, "customer.update", "customer", updated.id, updated.display_name, OK
        )
        return updated

    def _unchanged(
        self,
        read: Callable[[], _Editable],
        noun: str,
        name: Callable[[_Editable], str],
        fingerprint: str,
    ) -> _Editable:
        """The record as it is now, if it is what the form showed; else StaleForm."""
        try:
            current = read()
        except NotFound:
            raise StaleForm(
                f"This {noun} was deleted after the form was opened, so nothing was saved."
            ) from None
        if fingerprint and current.content_hash() != fingerprint:
            raise StaleForm(
                f"{name(current)} was changed by someone else after this form was opened, so "
                "nothing was saved. Close it and open it again to see the latest."
            )
        return current

    # -- offers ------------------------------------------------------------------------

    def find_offers(self, reference: str) -> list[Offer]:
        """By id (`5001`, `#5001`) or by name, ignoring case and accents (part of it is enough)."""
        query = reference.strip().strip('"')
        offers = self.api.list_offers()
        digits = query.lstrip("#")
        if digits.isdigit():
            by_id = [o for o in offers if o.id == int(digits)]
            if by_id:
                return by_id
        wanted = fold(query)
        exact = [o for o in offers if fold(o.name) == wanted]
        return exact or [o for o in offers if wanted and wanted in fold(o.name)]

    def offer(self, offer_id: int) -> Offer:
        return self.api.get_offer(offer_id)

    def create_offer(self, actor: Actor, fields: OfferFields) -> Offer:
        with self._failure_recorded(actor, "offer.create", "offer", None, fields.name):
            created = self.api.create_offer(**fields.api_body())
        self._record_other(actor, "offer.create", "offer", created.id, created.name, OK)
        return created

    def update_offer(
        self, actor: Actor, offer_id: int, fields: OfferFields, fingerprint: str
    ) -> Offer:
        current = self._unchanged(
            lambda: self.offer(offer_id), "offer", lambda o: f"“{o.name}”", fingerprint
        )
        with self._failure_recorded(actor, "offer.update", "offer", offer_id, current.name):
            updated = self.api.update_offer(offer_id, **fields.api_body())
        self._record_other(actor, "offer.update", "offer", updated.id, updated.name, OK)
        return updated

    # -- deletions and cancellations, behind a confirmation -------------------------------

    def check_confirmable(self, kind: str, target_id: int) -> str:
        """Refuse what cannot work before anyone confirms it; returns the target's name."""
        if kind == CUSTOMER_DELETE:
            return self.customer(target_id).display_name
        offer = self.offer(target_id)
        if kind == OFFER_DELETE and not offer.is_draft:
            raise ChangeRefused(
                f"“{offer.name}” is {offer.status}: only Draft offers can be deleted."
                + (" Cancel it instead: `/loyalty offer cancel`." if offer.is_published else "")
            )
        if kind == OFFER_CANCEL and not offer.is_published:
            raise ChangeRefused(
                f"“{offer.name}” is {offer.status}: only Published offers can be canceled."
            )
        return offer.name

    def ask_to_confirm(self, actor: Actor, kind: str, target_id: int) -> tuple[str, str]:
        """Check role and state, then store a pending confirmation: (token, target name)."""
        self.roles.require_manager(
            actor.user_id,
            CONFIRMABLE[kind],
            team_id=actor.team_id,
            target_type=kind.split(".")[0],
            target_id=target_id,
        )
        name = self.check_confirmable(kind, target_id)
        token = self.store.add_confirmation(
            kind=kind, target_id=target_id, target_name=name, requested_by=actor.user_id
        )
        return token, name

    def confirm(self, actor: Actor, token: str) -> tuple[str, str, int]:
        """Do what a confirmation button names, once: (kind, target name, target id)."""
        pending = self.store.confirmation(token)
        if pending is None:
            raise AlreadyDone("That confirmation is no longer valid; nothing was changed.")
        target_type = pending.kind.split(".")[0]
        self.roles.require_manager(
            actor.user_id,
            CONFIRMABLE[pending.kind],
            team_id=actor.team_id,
            target_type=target_type,
            target_id=pending.target_id,
            target_name=pending.target_name,
        )
        if not self.store.claim_confirmation(token):
            latest = self.store.confirmation(token)
            if latest is not None and latest.state == "done":
                by = f" by <@{latest.done_by}>" if latest.done_by else ""
                raise AlreadyDone(f"That was already done{by}; nothing more was changed.")
            raise AlreadyDone("Someone is doing that right now; nothing more was changed.")
        try:
            name = self.check_confirmable(pending.kind, pending.target_id)
            if pending.kind == CUSTOMER_DELETE:
                self.api.delete_customer(pending.target_id)
                self.index.remove(pending.target_id)
            elif pending.kind == OFFER_DELETE:
                self.api.delete_offer(pending.target_id)
            else:
                self.api.cancel_offer(pending.target_id)
        except NotFound:
            self.store.finish_confirmation(token, done=True, user_id=actor.user_id)
            raise AlreadyDone(
                f"{pending.target_name} no longer exists; nothing was changed."
            ) from None
        except (LoyaltyAPIError, ChangeRefused) as exc:
            self.store.finish_confirmation(token, done=False, user_id=actor.user_id)
            self._record_other(
                actor,
                pending.kind,
                target_type,
                pending.target_id,
                pending.target_name,
                FAILED,
                exc.message,
            )
            raise
        self.store.finish_confirmation(token, done=True, user_id=actor.user_id)
        self._record_other(actor, pending.kind, target_type, pending.target_id, name, OK)
        return pending.kind, name, pending.target_id

    @contextmanager
    def _failure_recorded(
        self, actor: Actor, action: str, target_type: str, target_id: int | None, name: str
    ) -> Iterator[None]:
        """Record a Loyalty API failure of the block in the audit log, and let it raise."""
        try:
            yield
        except LoyaltyAPIError as exc:
            self._record_other(actor, action, target_type, target_id, name, FAILED, exc.message)
            raise

    def _record_other(
        self,
        actor: Actor,
        action: str,
        target_type: str,
        target_id: int | None,
        target_name: str,
        outcome: str,
        detail: str = "",
    ) -> int:
        return self.store.record_by(
            actor,
            action=action,
            outcome=outcome,
            target_type=target_type,
            target_id=target_id,
            target_name=target_name,
            detail=detail,
        )

    def _record(
        self,
        actor: Actor,
        action: str,
        customer: Customer,
        outcome: str,
        before: int | None,
        after: int | None,
        reason: str,
        detail: str,
    ) -> int:
        return self.store.record_by(
            actor,
            action=action,
            outcome=outcome,
            target_type="customer",
            target_id=customer.id,
            target_name=customer.display_name,
            before=before,
            after=after,
            reason=reason,
            detail=detail,
        )


def _signed(entry: AuditEntry) -> str:
    delta = (entry.after or 0) - (entry.before or 0)
    return f"{delta:+,} points"


def _ago(age: dt.timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} minutes"
    hours = minutes // 60
    return f"{hours} hours" if hours < 48 else f"{hours // 24} days"
