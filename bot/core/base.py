"""What every part of the service shares: its Loyalty API client, store, roles, ledger and
customer index, and the reads (customers, offers, history)."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.index.customer_index import CustomerIndex
from bot.core.index.customer_list import CustomerList
from bot.core.index.search import LookupResult, exact_reference
from bot.core.index.snapshot import SnapshotBuilder
from bot.core.intents import record_key
from bot.core.ledger import Ledger
from bot.core.reconcile import settle_entry
from bot.core.roles import Roles
from bot.domain.allowance import NO_ALERTS, AlertThresholds
from bot.domain.audit import (
    Actor,
    AuditEntry,
    Target,
    utcnow,
)
from bot.domain.earning import EarningRule
from bot.domain.errors import (
    CustomerNotFound,
    InvalidInput,
    LoyaltyError,
    NotFound,
    StillLooking,
)
from bot.domain.phones import international, to_e164
from bot.domain.policy import Act
from bot.domain.say import Name, Say
from bot.domain.text_keys import fold, phone_digits
from bot.smartpasses.client import LoyaltyClient
from bot.smartpasses.models import Customer, Offer
from bot.store.database import Store
from bot.store.locks import locks_for

log = logging.getLogger(__name__)

OFFER_STATUSES = ("draft", "published", "canceled")


def offer_status(word: str) -> str:
    """A status as typed (`Drafts`, `cancelled`) as OFFER_STATUSES names it; other
    words folded, as they were."""
    wanted = fold(word).strip()
    return {"drafts": "draft", "cancelled": "canceled"}.get(wanted, wanted)


UTC = ZoneInfo("UTC")


CUSTOMERS_PER_PAGE = 20  # a customer list's page; `customers top 5` shows fewer, unpaged


@dataclass(frozen=True)
class CustomerPage:
    query: str
    customers: list[Customer]
    total: int
    page: int
    page_size: int
    by_points: bool = False

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


class ServiceBase:
    """The service's state and its reads; each feature (points, customers, offers,
    confirmations) is a subclass, and LoyaltyService puts them together."""

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
        alerts: AlertThresholds = NO_ALERTS,
        earning: EarningRule | None = None,
    ) -> None:
        """`index_builder`: builds the customer index from the API's list body elsewhere (a
        child process: bot.core.index.builder); by default it is built here. `alerts`: when
        the managers are told about unusual points (bot.core.alerts)."""
        self.api = api
        self.store = store
        self.roles = roles
        self.ledger = ledger or Ledger(store, locks_for(store.engine))
        self.ledger.serve(api.program, self._settle_old)
        self.max_points = max_points
        self.undo_window = dt.timedelta(minutes=undo_minutes)
        self.region = region  # national phone numbers are read as this country's
        self.alert_thresholds = alerts
        self.earning = earning  # how sales earn points (None: not set yet)
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
                functools.partial(index_builder.download, api.list_customers_body),
                build=index_builder,
                ttl=lookup_ttl,
                region=region,
            )
        self._clock = clock
        self.tz = tz
        # Looks past the list (a GET, a fresh read) that a person stopped waiting for.
        self._looking = ThreadPoolExecutor(16, thread_name_prefix="lookup-deeper")
        self._promised = 0  # answers to those looks not yet sent (`when_found`)
        self._promised_sent = threading.Condition()

    def _settle_old(self, entry: AuditEntry) -> bool:
        """Settle a change left in flight past its window (the ledger met its fence, and
        holds its record's lock): True if it was."""
        try:
            return settle_entry(self.api, self.store, entry) is not None
        except LoyaltyError as exc:
            log.warning("could not settle change #%d: %s", entry.id, exc.message)
            return False

    # -- reading ---------------------------------------------------------

    def find_customers(
        self, reference: str, *, within: float | None = None, in_the_list: bool = False
    ) -> LookupResult:
        """The customers `reference` names, found on the first try: an id that is not in
        the list is read at Smart Passes (one GET), and an email, phone or name that
        nothing in it matches makes the list be read again (`CustomerIndex.reread`)
        before nothing matches. A customer who signed up a moment ago is found.

        `within`: how long a person may wait for that (seconds); past it, StillLooking
        carries the answer to come, so they are told at once and answered after.
        `in_the_list`: the list alone (a guess at where a reference ends, not an answer)."""
        result = self.index.find(reference)
        if result.matches or in_the_list:
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
            raise StillLooking(reference.strip().strip('"'), later) from None

    def _deeper(self, reference: str) -> Callable[[], LookupResult | None] | None:
        """How to look past the list for `reference`: an id at Smart Passes; an email,
        phone or name in the list read again (nothing else tells a miss from a sign-up
        the list predates)."""
        text = reference.strip()
        kind = exact_reference(text)
        asked = self.index.now()  # a read that starts after this serves the asker
        # Digits alone may be a phone said without its country code, too.
        phone_like = kind == "phone" or (kind == "id" and len(text) >= 7 and text.isdigit())
        if not text.strip('"'):
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
            if (kind != "id" or phone_like) and self.index.reread(asked):
                return self.index.find(reference)
            return None

        return look

    def when_found(self, later: Future[Any], answer: Callable[[Future[Any]], None]) -> None:
        """`answer` once the look past the list that StillLooking carries ends, counted
        until it has answered (`answers_sent`)."""
        with self._promised_sent:
            self._promised += 1

        def answered(done: Future[Any]) -> None:
            try:
                answer(done)
            finally:
                with self._promised_sent:
                    self._promised -= 1
                    self._promised_sent.notify_all()

        later.add_done_callback(answered)

    def answers_sent(self, timeout: float) -> bool:
        """Wait until every answer promised after a look past the list has been sent
        (the console shows it under the command that promised it); False after
        `timeout` seconds."""
        with self._promised_sent:
            return self._promised_sent.wait_for(lambda: self._promised == 0, timeout)

    def finish_lookups(self) -> None:
        """Wait for the looks past the list whose answers people were promised (a
        shutdown: their answers are sent before the connections close)."""
        self._looking.shutdown(wait=True)

    def names_someone(self, reference: str) -> bool:
        """Whether the list as loaded names someone with `reference`, not waiting for a
        read: a guess at where a customer's words end (CustomerIndex.names_someone)."""
        return self.index.names_someone(reference)

    def near_customers(self, reference: str) -> LookupResult | None:
        """For a name nobody has, the customers it would name spelled as the list spells
        names (`jaun` -> Juan Pérez, Juana Pérez); None if there is no such spelling."""
        spelled = self.index.near(reference)
        found = self.index.find(spelled) if spelled else None
        return found if found and found.matches else None

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
        phone), else any part (bot.core.index.customer_index.CustomerIndex.search); at most `limit`."""
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

    def customers_page(
        self,
        query: str = "",
        page: int = 1,
        page_size: int = CUSTOMERS_PER_PAGE,
        *,
        by_points: bool = False,
    ) -> CustomerPage:
        """Customers by name, those matching any part of `query`, or by points."""
        query = query.strip()
        if by_points:
            matches = self.index.all(by_points=True)
        else:
            matches = self.index.search(query) if query else self.index.all()
        page = max(1, page)
        start = (page - 1) * page_size
        return CustomerPage(
            query, matches[start : start + page_size], len(matches), page, page_size, by_points
        )

    def offers(self, status: str | None = None) -> list[Offer]:
        wanted = offer_status(status or "")
        if wanted and wanted not in OFFER_STATUSES:
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

    def permit(self, actor: Actor, act: Act) -> None:
        """PermissionDenied (recorded) unless `actor` may do `act`: for a form about to open
        (its submission is checked again, as its own request)."""
        self.roles.require(actor.user_id, act, team_id=actor.team_id)

    def history(self, customer_id: int, limit: int = 15) -> list[AuditEntry]:
        return self.store.entries(target_type=Target.CUSTOMER, target_id=customer_id, limit=limit)

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
