"""What the bot does, without Slack. Every change goes through the ledger (`bot.ledger`):
recorded first, made under its record's lock, sent once, and told truthfully."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from bot.core.index.customer_list import CustomerList
from bot.core.index.lookup import CustomerIndex, LookupResult, SnapshotBuilder, exact_reference
from bot.core.ledger import Done, Intent, Ledger, creation_key, record_key
from bot.core.outcomes import (
    DELETED,
    check_change,
    check_customer_created,
    check_customer_updated,
    check_offer_created,
    check_offer_updated,
    check_points,
)
from bot.core.reconcile import settle_entry
from bot.core.roles import Roles
from bot.core.validation import CustomerFields, Field, OfferFields
from bot.domain.amounts import Op, PointsChange
from bot.domain.audit import (
    POINTS_ACTIONS,
    Action,
    Actor,
    AuditEntry,
    Changes,
    Target,
    field_changes,
    utcnow,
)
from bot.domain.errors import (
    AlreadyDone,
    AlreadyTaken,
    ChangeRefused,
    CustomerNotFound,
    InvalidInput,
    LoyaltyError,
    NotFound,
    OverAllowance,
    StaleForm,
    StillLooking,
)
from bot.domain.phones import digits as phone_digits
from bot.domain.phones import international, to_e164
from bot.domain.policy import Act
from bot.domain.records import ConfirmationState
from bot.domain.say import N_, Code, Command, Name, Person, Say, noun, status
from bot.domain.text_keys import fold
from bot.smartpasses.client import LoyaltyClient
from bot.smartpasses.models import Customer, Offer
from bot.store.database import Store
from bot.store.locks import locks_for

log = logging.getLogger(__name__)
OFFER_STATUSES = ("draft", "published", "canceled")
CUSTOMER_DELETE, OFFER_DELETE, OFFER_CANCEL = (
    Action.CUSTOMER_DELETE,
    Action.OFFER_DELETE,
    Action.OFFER_CANCEL,
)
# What each confirmation does, in the policy's words.
CONFIRMABLE = {
    CUSTOMER_DELETE: Act.DELETE_CUSTOMER,
    OFFER_DELETE: Act.DELETE_OFFER,
    OFFER_CANCEL: Act.CANCEL_OFFER,
}
UTC = ZoneInfo("UTC")
TOP_WORDS = ("top", "mejores")  # `/loyalty customers top`: by points, most first
CUSTOMER_FIELDS = ("first_name", "last_name", "email", "phone")
OFFER_FIELDS = ("name", "description", "points_cost", "auto_claim")
_Editable = TypeVar("_Editable", Customer, Offer)
# A field, inside the sentence saying another record has it (Babel cannot see N_() nested
# in a Say's arguments: marked here).
THIS_EMAIL, THIS_PHONE, THIS_NAME = N_("This email"), N_("This phone number"), N_("This name")
_ACTION_FOR = {
    Op.ADD: Action.POINTS_ADD,
    Op.DEDUCT: Action.POINTS_DEDUCT,
    Op.SET: Action.POINTS_SET,
}
_VERB_FOR = {  # what a points change is doing, for the sentences about it
    Op.ADD: N_("Adding {amount:,} points for {name}"),
    Op.DEDUCT: N_("Deducting {amount:,} points for {name}"),
    Op.SET: N_("Setting {name}'s points to {amount:,}"),
}


@dataclass(frozen=True)
class PointsResult:
    customer: Customer
    before: int
    after: int
    reason: str
    entry: AuditEntry | None
    actor: Actor
    remarks: list[Say] = field(default_factory=list)  # what the person should also know
    offer: Offer | None = None  # the reward, for a redemption

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


def customer_key(customer_id: int) -> str:
    return record_key(Target.CUSTOMER, customer_id)


def offer_key(offer_id: int) -> str:
    return record_key(Target.OFFER, offer_id)


def values_of(record: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(record, name) for name in names}


class LoyaltyService:
    def __init__(
        self,
        api: LoyaltyClient,
        store: Store,
        roles: Roles,
        *,
        ledger: Ledger | None = None,
        max_points: int = 1000,
        undo_minutes: int = 15,
        lookup_ttl: float = 60.0,
        clock: Callable[[], dt.datetime] = utcnow,
        tz: ZoneInfo = UTC,
        region: str = "",
        index_builder: SnapshotBuilder | None = None,
    ) -> None:
        """`index_builder`: builds the customer index from the API's list body elsewhere (a
        child process: bot.core.index.builder); by default it is built here."""
        self.api = api
        self.store = store
        self.roles = roles
        self.ledger = ledger or Ledger(store, locks_for(store.engine))
        self.ledger.serve(api.program, self._settle_old)
        self.max_points = max_points
        self.undo_window = dt.timedelta(minutes=undo_minutes)
        self.region = region  # national phone numbers are read as this country's
        if index_builder is None:
            self.index = CustomerIndex(
                functools.partial(
                    api.list_customers,
                    functools.partial(CustomerList.from_json, text_columns=True),
                ),
                ttl=lookup_ttl,
                region=region,
            )
        else:
            self.index = CustomerIndex(
                functools.partial(api.list_customers_body, keep=index_builder.receive),
                build=index_builder,
                ttl=lookup_ttl,
                region=region,
            )
        self._clock = clock
        self.tz = tz
        # Looks past the list (a GET, a fresh read) that a person stopped waiting for.
        self._looking = ThreadPoolExecutor(16, thread_name_prefix="lookup-deeper")

    def _settle_old(self, entry: AuditEntry) -> bool:
        """Settle a change left in flight past its window (the ledger met its fence, and
        holds its record's lock): True if it was."""
        try:
            return settle_entry(self.api, self.store, entry) is not None
        except LoyaltyError as exc:
            log.warning("could not settle change #%d: %s", entry.id, exc.message)
            return False

    # -- reading ---------------------------------------------------------

    def find_customers(self, reference: str, *, within: float | None = None) -> LookupResult:
        """The customers `reference` names, found on the first try: an id that is not in
        the list is read at Smart Passes (one GET), and a whole email or phone that is not
        in it makes the list be read again (`CustomerIndex.reread`) before nothing
        matches. A customer who signed up a moment ago is found.

        `within`: how long a person may wait for that (seconds); past it, StillLooking
        carries the answer to come, so they are told at once and answered after."""
        result = self.index.find(reference)
        if result.matches:
            return result
        deeper = self._deeper(reference)
        if deeper is None:
            return result
        if within is None:
            return deeper() or result
        later = self._looking.submit(deeper)
        try:
            return later.result(timeout=within) or result
        except FutureTimeout:
            raise StillLooking(reference.strip(), later) from None

    def _deeper(self, reference: str) -> Callable[[], LookupResult | None] | None:
        """How to look past the list for `reference`, if it is an id, email or phone."""
        text = reference.strip()
        kind = exact_reference(text)
        asked = self.index.now()  # a read that starts after this serves the asker
        # Digits alone may be a phone said without its country code, too.
        phone_like = kind == "phone" or (kind == "id" and len(text) >= 7 and text.isdigit())
        if kind != "id" and not (kind == "email" or phone_like):
            return None

        def look() -> LookupResult | None:
            if kind == "id" and int(text.lstrip("#")) < 2**63:
                try:
                    customer = self.api.get_customer(int(text.lstrip("#")))
                except NotFound:
                    customer = None
                if customer is not None:
                    self.index.upsert(customer)
                    return LookupResult(text, [customer])
            if (kind == "email" or phone_like) and self.index.reread(asked):
                return self.index.find(reference)
            return None

        return look

    def not_found(self, query: str) -> CustomerNotFound:
        """Nothing matches `query`: saying what was searched, and how a phone number
        without its country code was read (or that it could not be)."""
        text = query.strip().strip('"')
        if exact_reference(text) in ("phone", "id") and not text.startswith(("+", "#")):
            if self.region:
                e164 = to_e164(text, self.region)
                if e164 is not None:
                    return CustomerNotFound(text, read_as=international(e164))
            elif len(phone_digits(text)) >= 7:
                return CustomerNotFound(text, unread=True)
        return CustomerNotFound(text)

    def suggest_customers(self, typed: str, limit: int = 20) -> list[Customer]:
        """For a type-ahead: what a lookup finds (names by their start, a whole email or
        phone), else any part (bot.core.index.lookup.CustomerIndex.search); at most `limit`."""
        typed = typed.strip()
        if not typed:
            return []
        return list((self.index.find(typed).matches or self.index.search(typed))[:limit])

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
        """Customers by name, those matching any part of `query`, or (`top`) by points."""
        query = query.strip()
        if fold(query) in TOP_WORDS:
            matches = self.index.all(by_points=True)
        else:
            matches = self.index.search(query) if query else self.index.all()
        page = max(1, page)
        start = (page - 1) * page_size
        return CustomerPage(
            query, matches[start : start + page_size], len(matches), page, page_size
        )

    def offers(self, status: str | None = None) -> list[Offer]:
        wanted = fold(status or "").strip()
        if wanted and wanted not in OFFER_STATUSES and wanted != "cancelled":
            raise InvalidInput(
                Say(
                    "“{status}” is not an offer status: use draft, published or canceled.",
                    status=Name(status or ""),
                )
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
        return self.store.entries(target_type=Target.CUSTOMER, target_id=customer_id, limit=limit)

    # -- points ----------------------------------------------------------

    def change_points(
        self,
        actor: Actor,
        customer_id: int,
        change: PointsChange,
        reason: str = "",
        *,
        shown_balance: int | None = None,
    ) -> PointsResult:
        """Apply `change` to the balance as it is now. `shown_balance` is what a form
        showed: setting a balance that has moved since is refused; adding or deducting
        applies to the new balance and says so."""
        self.roles.require(
            actor.user_id,
            Act.ADD_POINTS if change.op is Op.ADD else Act.CHANGE_POINTS,
            team_id=actor.team_id,
            target_type=Target.CUSTOMER,
            target_id=customer_id,
        )
        reserved = None
        if change.op is Op.ADD and not self.roles.is_manager(actor.user_id):
            reserved = self._clerk_adds(actor, customer_id, change.amount)
        try:
            return self._change_points(actor, customer_id, change, reason, shown_balance)
        except LoyaltyError as exc:
            if reserved is not None and exc.safe_to_retry:  # nothing was added
                with suppress(LoyaltyError):
                    self.store.release_clerk_points(actor.user_id, reserved, change.amount)
            raise

    def _clerk_adds(self, actor: Actor, customer_id: int, amount: int) -> str | None:
        """Check a clerk's add against the clerk allowance and count it against the day's
        total (the local day it was counted on, or None when there is no daily total).
        OverAllowance, recorded, when it does not fit."""
        allowance = self.roles.allowance
        why = None
        day = None
        if amount > allowance.per_change:
            why = Say(
                "Clerks can add at most {most:,} points in one change.", most=allowance.per_change
            )
        elif allowance.per_day:
            day = self._clock().astimezone(self.tz).date().isoformat()
            if not self.store.reserve_clerk_points(actor.user_id, day, amount, allowance.per_day):
                used = self.store.clerk_points_on(actor.user_id, day)
                why = Say(
                    "Clerks can add at most {most:,} points a day, and you have added {used:,} "
                    "today, so {left:,} more can be added.",
                    most=allowance.per_day,
                    used=used,
                    left=max(0, allowance.per_day - used),
                )
        if why is not None:
            self.ledger.refuse(
                actor,
                Intent(Action.REFUSED, Target.CUSTOMER, customer_id, "", requested=f"+{amount}"),
                str(why),
            )
            raise OverAllowance(why, self.roles.managers_said())
        return day

    def _change_points(
        self,
        actor: Actor,
        customer_id: int,
        change: PointsChange,
        reason: str,
        shown_balance: int | None,
    ) -> PointsResult:
        with self.ledger.locked(customer_key(customer_id), N_("this customer's points"), actor):
            customer = self.customer(customer_id)  # the balance read under the lock
            old, name = customer.points, Name(customer.display_name)
            intent = Intent(
                _ACTION_FOR[change.op],
                Target.CUSTOMER,
                customer.id,
                customer.display_name,
                before=old,
                requested=str(change),
                reason=reason,
            )
            moved = shown_balance is not None and shown_balance != old
            refusal = self._refusal(name, change, old, change.new_balance(old))
            if moved and change.op is Op.SET:
                refusal = Say(
                    "{name}'s balance changed to {old:,} after the form was opened (it showed "
                    "{shown:,}), so it was not set to {amount:,}. Nothing was changed; look at "
                    "the new balance and try again.",
                    name=name,
                    old=old,
                    shown=shown_balance,
                    amount=change.amount,
                )
            if refusal:
                self.ledger.refuse(actor, intent, str(refusal))
                raise ChangeRefused(refusal)
            done = self._points_call(actor, intent, change)
        self.index.upsert(done.value)
        remarks = done.remarks
        if moved:
            remarks = [
                Say(
                    "The balance had changed to {old:,} since the form showed {shown:,}; the "
                    "change was applied to {old:,}.",
                    old=old,
                    shown=shown_balance,
                ),
                *remarks,
            ]
        return PointsResult(done.value, old, done.value.points, reason, done.entry, actor, remarks)

    def _points_call(self, actor: Actor, intent: Intent, change: PointsChange) -> Done[Customer]:
        """Record, send, settle: under the customer's lock, which the caller holds."""
        customer_id = intent.target_id
        assert customer_id is not None and intent.before is not None
        new = change.new_balance(intent.before)
        pending = self.ledger.begin(actor, intent)
        if change.op is Op.ADD:

            def send() -> Customer | None:
                return self.api.add_points(customer_id, change.amount)
        else:

            def send() -> Customer | None:
                return self.api.update_customer(customer_id, points=new)

        name = Name(intent.target_name)
        what = Say(_VERB_FOR[change.op], amount=change.amount, name=name)
        if intent.action == Action.POINTS_UNDO:
            what = Say("Undoing the change for {name} (back to {new:,} points)", name=name, new=new)
        elif intent.action == Action.POINTS_REDEEM:
            what = Say(
                "Redeeming “{offer}” for {name} ({amount:,} points)",
                offer=Name(intent.reason),
                name=name,
                amount=change.amount,
            )
        return self.ledger.carry_out(
            pending,
            send,
            lambda: check_points(self.api, intent),
            what=what,
            check_hint=Say(
                "{name}'s balance ({card})",
                name=name,
                card=Command("customer", str(customer_id)),
            ),
            completion=lambda c: {"after": c.points, "target_name": c.display_name},
        )

    def _refusal(self, name: Name, change: PointsChange, old: int, new: int) -> Say | None:
        if new < 0:
            return Say(
                "{name} has {old:,} points, so deducting {amount:,} would leave {new:,}. "
                "Balances cannot go below zero; nothing was changed.",
                name=name,
                old=old,
                amount=change.amount,
                new=new,
            )
        if change.op is Op.SET and new == old:
            return Say(
                "{name} already has {old:,} points; nothing was changed.", name=name, old=old
            )
        if abs(new - old) > self.max_points:
            return Say(
                "Setting {name} to {new:,} would change the balance by {by:,} points, more "
                "than the largest single change allowed ({most:,}).",
                name=name,
                new=new,
                by=abs(new - old),
                most=self.max_points,
            )
        return None

    def undo_last(self, actor: Actor) -> PointsResult:
        recent = self.store.entries(
            user_id=actor.user_id,
            actions=[a for a in POINTS_ACTIONS if a != Action.POINTS_UNDO],
            outcome="ok",
            limit=1,
        )
        if not recent:  # said first: a refusal to undo nothing would only confuse
            raise ChangeRefused(Say("You have no points change to undo."))
        self.roles.require(actor.user_id, Act.UNDO, team_id=actor.team_id)
        manager = self.roles.is_manager(actor.user_id)
        entry = recent[0]
        what = Say(
            "your last change ({delta:+,} points for {name})",
            delta=(entry.after or 0) - (entry.before or 0),
            name=Name(entry.target_name),
        )
        if entry.undone_at is not None:
            raise ChangeRefused(Say("Nothing to undo: {what} was already undone.", what=what))
        if entry.action != Action.POINTS_ADD:  # clerks may undo only what they may do
            self.roles.require(
                actor.user_id,
                Act.UNDO_ANY_CHANGE,
                team_id=actor.team_id,
                target_type=Target.CUSTOMER,
                target_id=entry.target_id,
                target_name=entry.target_name,
            )
        age = self._clock() - entry.at
        if age > self.undo_window:
            raise ChangeRefused(
                Say(
                    "Too late to undo {what}: it was made {age} ago, and only changes from the "
                    "last {minutes} minutes can be undone. Change the points by hand instead.",
                    what=what,
                    age=_ago(age),
                    minutes=int(self.undo_window.total_seconds() // 60),
                )
            )
        assert entry.target_id is not None and entry.before is not None
        with self.ledger.locked(customer_key(entry.target_id), N_("this customer's points"), actor):
            try:
                current = self.customer(entry.target_id)
            except NotFound:
                raise ChangeRefused(
                    Say("Cannot undo {what}: the customer no longer exists.", what=what)
                ) from None
            if current.points != entry.after:
                raise ChangeRefused(
                    Say(
                        "Cannot undo {what}: the balance changed since (it is now {now:,}, your "
                        "change left {left:,}). Nothing was changed.",
                        what=what,
                        now=current.points,
                        left=entry.after,
                    )
                )
            if not self.store.claim_undo(entry.id):
                raise ChangeRefused(Say("Nothing to undo: {what} was already undone.", what=what))
            change = PointsChange(Op.SET, entry.before)
            intent = Intent(
                Action.POINTS_UNDO,
                Target.CUSTOMER,
                current.id,
                current.display_name,
                before=current.points,
                requested=str(change),
                reason=f"undo of change #{entry.id}",
            )
            try:
                done = self._points_call(actor, intent, change)
            except LoyaltyError as exc:
                if exc.safe_to_retry:  # nothing changed: the change can be undone later
                    with suppress(SQLAlchemyError):
                        self.store.release_undo(entry.id)
                raise
        self.index.upsert(done.value)
        if entry.action == Action.POINTS_ADD and not manager and self.roles.allowance.per_day:
            day = entry.at.astimezone(self.tz).date().isoformat()
            with suppress(LoyaltyError):  # an undone add no longer counts against the day
                self.store.release_clerk_points(actor.user_id, day, entry.delta or 0)
        return PointsResult(
            done.value,
            current.points,
            done.value.points,
            intent.reason,
            done.entry,
            actor,
            done.remarks,
        )

    def redeem(self, actor: Actor, customer_id: int, offer_id: int) -> PointsResult:
        """Redeem a Published offer for a customer: its cost deducted from the balance,
        under the customer's lock like every points change, once."""
        self.roles.require(
            actor.user_id,
            Act.REDEEM,
            team_id=actor.team_id,
            target_type=Target.CUSTOMER,
            target_id=customer_id,
        )
        offer = self.offer(offer_id)
        if not offer.is_published:
            raise ChangeRefused(
                Say(
                    "“{name}” is {status}: only Published offers can be redeemed. Nothing was "
                    "changed.",
                    name=Name(offer.name),
                    status=status(offer.status or "draft"),
                )
            )
        if offer.points_cost <= 0:
            raise ChangeRefused(
                Say(
                    "“{name}” costs no points, so there is nothing to redeem.",
                    name=Name(offer.name),
                )
            )
        change = PointsChange(Op.DEDUCT, offer.points_cost)
        with self.ledger.locked(customer_key(customer_id), N_("this customer's points"), actor):
            customer = self.customer(customer_id)  # the balance read under the lock
            intent = Intent(
                Action.POINTS_REDEEM,
                Target.CUSTOMER,
                customer.id,
                customer.display_name,
                before=customer.points,
                requested=str(change),
                reason=offer.name,
                changes={"offer_id": [None, offer.id]},
            )
            if customer.points < offer.points_cost:
                short = Say(
                    "{name} has {old:,} points and “{offer}” costs {cost:,}: {missing:,} more "
                    "points are needed. Nothing was changed.",
                    name=Name(customer.display_name),
                    old=customer.points,
                    offer=Name(offer.name),
                    cost=offer.points_cost,
                    missing=offer.points_cost - customer.points,
                )
                self.ledger.refuse(actor, intent, str(short))
                raise ChangeRefused(short)
            done = self._points_call(actor, intent, change)
        self.index.upsert(done.value)
        return PointsResult(
            done.value,
            customer.points,
            done.value.points,
            offer.name,
            done.entry,
            actor,
            done.remarks,
            offer,
        )

    def redeemable(self, customer: Customer) -> list[Offer]:
        """The Published offers, those the customer can afford first (cheapest first)."""
        offers = [o for o in self.api.list_offers() if o.is_published and o.points_cost > 0]
        return sorted(
            offers, key=lambda o: (o.points_cost > customer.points, o.points_cost, fold(o.name))
        )

    # -- customers -------------------------------------------------------------------

    def create_customer(
        self, actor: Actor, fields: CustomerFields, *, same_name: str = ""
    ) -> Done[Customer]:
        """`same_name`: the name a form warned about and was sent again with (a manager
        confirming a second customer of that name)."""
        wanted = fields.api_body()
        with self.ledger.locked(
            creation_key(Target.CUSTOMER, wanted), N_("a customer with these details"), actor
        ):
            self._check_taken(actor, fields, None, same_name)
            done = self._create(
                actor,
                Action.CUSTOMER_CREATE,
                fields.full_name,
                wanted,
                {c.id for c in self._customers_like(fields)},
                lambda: self.api.create_customer(**wanted),
                check_customer_created,
                Say("{search}", search=Command("customers", fields.full_name)),
            )
        self.index.upsert(done.value)
        return done

    def _create(
        self,
        actor: Actor,
        action: Action,
        name: str,
        wanted: dict[str, Any],
        known: set[int],
        send: Callable[[], _Editable | None],
        check: Callable[[LoyaltyClient, Intent], _Editable | None],
        check_hint: Say,
    ) -> Done[_Editable]:
        """Create a record (under its creation lock, which the caller holds). `known` are
        the records that already matched it, which the check must not mistake for it."""
        intent = Intent(
            action,
            action.target_type,
            None,
            name,
            requested=Intent.creating(wanted, known),
            changes=field_changes(None, wanted),
        )
        pending = self.ledger.begin(actor, intent)
        return self.ledger.carry_out(
            pending,
            send,
            lambda: check(self.api, intent),
            what=(
                Say("Creating the customer “{name}”", name=Name(name))
                if action.target_type == Target.CUSTOMER
                else Say("Creating the offer “{name}”", name=Name(name))
            ),
            check_hint=check_hint,
            completion=lambda record: {"target_id": record.id, "target_name": _name_of(record)},
        )

    def _check_taken(
        self, actor: Actor, fields: CustomerFields, current: Customer | None, same_name: str
    ) -> None:
        """AlreadyTaken, before anything is sent, when the email, phone or full name (each
        as it will be saved, and changed by this form) belongs to another customer. A
        manager may go ahead with a same name by sending the form again."""

        def other(matches: Sequence[Customer], same: Callable[[Customer], bool]) -> Customer | None:
            return next(
                (c for c in matches if same(c) and (current is None or c.id != current.id)), None
            )

        def changed(value: str, before: str) -> bool:
            return bool(value) and (current is None or fold(value) != fold(before))

        email, phone = fields.email.strip().casefold(), phone_digits(fields.phone)
        if changed(fields.email, current.email if current else ""):
            owner = other(
                self.index.find(fields.email).matches,
                lambda c: c.email.strip().casefold() == email,
            )
            if owner is not None:
                raise AlreadyTaken(_taken(THIS_EMAIL, owner), Field.EMAIL)
        if changed(fields.phone, current.phone if current else ""):
            owner = other(
                self.index.find(fields.phone).matches, lambda c: phone_digits(c.phone) == phone
            )
            if owner is not None:
                raise AlreadyTaken(_taken(THIS_PHONE, owner), Field.PHONE)
        name = fold(fields.full_name)
        manager = self.roles.is_manager(actor.user_id)
        confirmed = manager and same_name == name
        if changed(fields.full_name, current.full_name if current else "") and not confirmed:
            owner = other(
                self.index.find(f'"{fields.full_name}"').matches,
                lambda c: fold(c.full_name) == name,
            )
            if owner is None:
                return
            if manager:
                raise AlreadyTaken(
                    Say(
                        "{taken} If this is another person with the same name, send the form "
                        "again to save it anyway.",
                        taken=_taken(THIS_NAME, owner),
                    ),
                    Field.FIRST_NAME,
                    confirmable=name,
                )
            raise AlreadyTaken(
                Say(
                    "{taken} If this is another person with the same name, ask a manager to "
                    "create them.",
                    taken=_taken(THIS_NAME, owner),
                ),
                Field.FIRST_NAME,
            )

    def _customers_like(self, fields: CustomerFields) -> Sequence[Customer]:
        """Customers a create's check could mistake for the new one (they existed before)."""
        reference = fields.email or fields.phone or f'"{fields.full_name}"'
        return self.index.find(reference).matches

    def update_customer(
        self,
        actor: Actor,
        customer_id: int,
        fields: CustomerFields,
        fingerprint: str,
        *,
        same_name: str = "",
    ) -> Done[Customer]:
        with self.ledger.locked(customer_key(customer_id), N_("this customer"), actor):
            current = self._unchanged(
                lambda: self.customer(customer_id),
                "customer",
                lambda c: Name(c.display_name),
                fingerprint,
            )
            self._check_taken(actor, fields, current, same_name)
            done = self._edit(
                actor,
                Action.CUSTOMER_UPDATE,
                current,
                fields.api_body(),
                CUSTOMER_FIELDS,
                lambda changed: self.api.update_customer(current.id, **changed),
                check_customer_updated,
                Say("Saving the customer {name}", name=Name(current.display_name)),
                Say("{card}", card=Command("customer", str(current.id))),
            )
        self.index.upsert(done.value)
        return done

    def _edit(
        self,
        actor: Actor,
        action: Action,
        current: _Editable,
        wanted: dict[str, Any],
        names: tuple[str, ...],
        send: Callable[[dict[str, Any]], _Editable | None],
        check: Callable[[LoyaltyClient, Intent], _Editable | None],
        what: Say,
        check_hint: Say,
    ) -> Done[_Editable]:
        """Send only the fields that differ; record each field's before and after."""
        before = values_of(current, names)
        changes = field_changes(before, wanted)
        if not changes:
            return Done(current, None)
        name = current.display_name if isinstance(current, Customer) else current.name
        intent = Intent(action, action.target_type, current.id, name, changes=changes)
        pending = self.ledger.begin(actor, intent)
        return self.ledger.carry_out(
            pending,
            lambda: send({k: new for k, (_, new) in changes.items()}),
            lambda: check(self.api, intent),
            what=what,
            check_hint=check_hint,
            completion=lambda record: {
                "target_name": _name_of(record),
                "changes": field_changes(before, values_of(record, names)),
            },
        )

    def _unchanged(
        self,
        read: Callable[[], _Editable],
        noun: str,
        name: Callable[[_Editable], Name],
        fingerprint: str,
    ) -> _Editable:
        """The record as it is now, if it is what the form showed; else StaleForm."""
        try:
            current = read()
        except NotFound:
            raise StaleForm(
                Say(
                    "This {noun} was deleted after the form was opened, so nothing was saved.",
                    noun=noun,
                )
            ) from None
        if fingerprint and current.content_hash() != fingerprint:
            raise StaleForm(
                Say(
                    "{name} was changed by someone else after this form was opened, so nothing "
                    "was saved. Close it and open it again to see the latest.",
                    name=name(current),
                )
            )
        return current

    # -- offers ------------------------------------------------------------------------

    def find_offers(self, reference: str, offers: list[Offer] | None = None) -> list[Offer]:
        """By id (`5001`, `#5001`) or by name, ignoring case and accents (part of it is
        enough), among `offers` (by default, a fresh list)."""
        query = reference.strip().strip('"')
        offers = self.api.list_offers() if offers is None else offers
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

    def create_offer(self, actor: Actor, fields: OfferFields) -> Done[Offer]:
        wanted = fields.api_body()
        with self.ledger.locked(
            creation_key(Target.OFFER, wanted), N_("an offer with this name"), actor
        ):
            self._check_offer_name(fields.name, None)
            return self._create(
                actor,
                Action.OFFER_CREATE,
                fields.name,
                wanted,
                set(),  # no offer had this name (just checked)
                lambda: self.api.create_offer(**wanted),
                check_offer_created,
                Say("{drafts}", drafts=Command("offers draft")),
            )

    def update_offer(
        self, actor: Actor, offer_id: int, fields: OfferFields, fingerprint: str
    ) -> Done[Offer]:
        with self.ledger.locked(offer_key(offer_id), N_("this offer"), actor):
            current = self._unchanged(
                lambda: self.offer(offer_id), "offer", lambda o: Name(f"“{o.name}”"), fingerprint
            )
            self.check_offer_editable(actor, current)
            if fold(fields.name) != fold(current.name):
                self._check_offer_name(fields.name, offer_id)
            return self._edit(
                actor,
                Action.OFFER_UPDATE,
                current,
                fields.api_body(),
                OFFER_FIELDS,
                lambda changed: self.api.update_offer(offer_id, **changed),
                check_offer_updated,
                Say("Saving the offer “{name}”", name=Name(current.name)),
                Say("{card}", card=Command("offer", str(offer_id))),
            )

    def _check_offer_name(self, name: str, offer_id: int | None) -> None:
        """AlreadyTaken when another offer has this name (ignoring case and accents): two
        offers people cannot tell apart make `offer <name>` ambiguous."""
        wanted = fold(name).strip()
        owner = next(
            (
                o
                for o in self.api.list_offers()
                if fold(o.name).strip() == wanted and o.id != offer_id
            ),
            None,
        )
        if owner is not None:
            raise AlreadyTaken(
                Say(
                    "{taken} Choose another name, so people can tell them apart.",
                    taken=_taken(THIS_NAME, owner),
                ),
                Field.OFFER_NAME,
            )

    def check_offer_editable(self, actor: Actor, offer: Offer) -> None:
        """A live offer is for managers to edit; none is edited while being published."""
        if not offer.is_draft:
            self.roles.require(
                actor.user_id,
                Act.EDIT_LIVE_OFFER,
                team_id=actor.team_id,
                target_type=Target.OFFER,
                target_id=offer.id,
                target_name=offer.name,
            )
        if self.store.publishing(offer.id):
            raise ChangeRefused(
                Say(
                    "“{name}” is being published right now, so it cannot be edited. Try again "
                    "in a minute.",
                    name=Name(offer.name),
                )
            )

    # -- deletions and cancellations, behind a confirmation -------------------------------

    def check_confirmable(self, kind: Action, target_id: int) -> str:
        """Refuse what cannot work before anyone confirms it; returns the target's name."""
        if kind == CUSTOMER_DELETE:
            return self.customer(target_id).display_name
        offer = self.offer(target_id)
        if kind == OFFER_DELETE and not offer.is_draft:
            raise ChangeRefused(
                Say(
                    "“{name}” is {status}: only Draft offers can be deleted. Cancel it instead: "
                    "{cancel}.",
                    name=Name(offer.name),
                    status=status(offer.status),
                    cancel=Command("offer cancel"),
                )
                if offer.is_published
                else Say(
                    "“{name}” is {status}: only Draft offers can be deleted.",
                    name=Name(offer.name),
                    status=status(offer.status),
                )
            )
        if kind == OFFER_CANCEL and not offer.is_published:
            raise ChangeRefused(
                Say(
                    "“{name}” is {status}: only Published offers can be canceled.",
                    name=Name(offer.name),
                    status=status(offer.status),
                )
            )
        return offer.name

    def ask_to_confirm(self, actor: Actor, kind: Action, target_id: int) -> tuple[str, str]:
        """Check role and state, then store a pending confirmation: (token, target name)."""
        self.roles.require(
            actor.user_id,
            CONFIRMABLE[kind],
            team_id=actor.team_id,
            target_type=Action(kind).target_type,
            target_id=target_id,
        )
        name = self.check_confirmable(kind, target_id)
        token = self.store.add_confirmation(
            kind=kind, target_id=target_id, target_name=name, requested_by=actor.user_id
        )
        return token, name

    def confirm(self, actor: Actor, token: str) -> Done[Any]:
        """Do what a confirmation button names, once."""
        pending = self.store.confirmation(token)
        if pending is None:
            raise AlreadyDone(Say("That confirmation is no longer valid; nothing was changed."))
        action = Action(pending.kind)
        self.roles.require(
            actor.user_id,
            CONFIRMABLE[action],
            team_id=actor.team_id,
            target_type=action.target_type,
            target_id=pending.target_id,
            target_name=pending.target_name,
        )
        if not self.store.claim_confirmation(token):
            latest = self.store.confirmation(token)
            if latest is not None and latest.state == ConfirmationState.DONE:
                raise AlreadyDone(
                    Say(
                        "That was already done by {who}; nothing more was changed.",
                        who=Person(latest.done_by),
                    )
                    if latest.done_by
                    else Say("That was already done; nothing more was changed.")
                )
            raise AlreadyDone(Say("Someone is doing that right now; nothing more was changed."))
        try:
            done = self._confirmed(actor, action, pending.target_id)
        except NotFound:
            self.store.finish_confirmation(token, done=True, user_id=actor.user_id)
            raise AlreadyDone(
                Say(
                    "{name} no longer exists; nothing was changed.",
                    name=Name(pending.target_name),
                )
            ) from None
        except Exception:  # any failure: the button works again, and first re-reads the record
            self.store.finish_confirmation(token, done=False, user_id=actor.user_id)
            raise
        self.store.finish_confirmation(token, done=True, user_id=actor.user_id)
        return done

    def _confirmed(self, actor: Actor, action: Action, target_id: int) -> Done[Any]:
        """Delete a customer, delete an offer or cancel one, under its record's lock."""
        key = customer_key(target_id) if action == CUSTOMER_DELETE else offer_key(target_id)
        with self.ledger.locked(key, N_("this record"), actor):
            if action == CUSTOMER_DELETE:
                customer = self.customer(target_id)
                name = customer.display_name
                changes: Changes = {"points": [customer.points, None]}
                hint = Say("{card}", card=Command("customer", str(target_id)))
            else:
                name = self.check_confirmable(action, target_id)
                changes = {"status": ["Draft", None]}
                hint = Say("{list}", list=Command("offers"))
                if action == OFFER_CANCEL:
                    changes = {"status": ["Published", "Canceled"]}
            intent = Intent(action, action.target_type, target_id, name, changes=changes)
            pending = self.ledger.begin(actor, intent)
            done = self.ledger.carry_out(
                pending,
                lambda: self._send_confirmed(action, target_id),
                lambda: check_change(self.api, intent),
                what=(
                    Say("Canceling {name}", name=Name(name))
                    if action == OFFER_CANCEL
                    else Say("Deleting {name}", name=Name(name))
                ),
                check_hint=hint,
            )
        if action == CUSTOMER_DELETE:
            self.index.remove(target_id)
        return done

    def _send_confirmed(self, action: Action, target_id: int) -> Any:
        if action == CUSTOMER_DELETE:
            self.api.delete_customer(target_id)
        elif action == OFFER_DELETE:
            self.api.delete_offer(target_id)
        else:
            self.api.cancel_offer(target_id)
        return DELETED  # any 2xx: done (no record needed)


def _taken(what: str, owner: Customer | Offer) -> Say:
    """`what`: our words for the field ("This email"), translated with the sentence."""
    return Say(
        "{what} already belongs to {name} ({id}).",
        what=noun(what),
        name=Name(_name_of(owner)),
        id=Code(f"#{owner.id}"),
    )


def _name_of(record: Customer | Offer) -> str:
    return record.display_name if isinstance(record, Customer) else record.name


def _ago(age: dt.timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} minutes"
    hours = minutes // 60
    return f"{hours} hours" if hours < 48 else f"{hours // 24} days"
