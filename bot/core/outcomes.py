"""Was a change applied? Re-read Smart Passes and compare with the intent.

Each check returns the record as it now is when the change was applied, None when it
was not, and raises Unclear when the record says neither (or cannot be read). Reads are
GETs, which the client retries. Used right after an unclear answer, and later by
`bot.core.reconcile` for entries a stopped process left pending.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from bot.core.index.customer_list import CustomerList
from bot.core.intents import Intent, Unclear
from bot.domain.amounts import PointsChange
from bot.domain.audit import POINTS_ACTIONS, Action
from bot.domain.errors import LoyaltyAPIError, NotFound
from bot.domain.say import N_, Code, Say, noun, status
from bot.domain.text_keys import fold, phone_digits
from bot.smartpasses.client import LoyaltyClient
from bot.smartpasses.models import Customer, Offer

DELETED = True  # what a delete check returns once the record is gone
T = TypeVar("T")


def was_applied(api: LoyaltyClient, intent: Intent, evidence: int | None = None) -> Any:
    """The check for `intent`'s action. `evidence`, for a points change, is the balance
    a later change read before it acted (a better witness than today's balance)."""
    action = Action(intent.action)
    if action in POINTS_ACTIONS:  # a tuple of members: plain equality
        return points_applied(api, intent, evidence)
    checks: dict[Action, Callable[[LoyaltyClient, Intent], Any]] = {
        Action.CUSTOMER_CREATE: customer_created,
        Action.CUSTOMER_UPDATE: customer_updated,
        Action.CUSTOMER_DELETE: customer_deleted,
        Action.OFFER_CREATE: offer_created,
        Action.OFFER_UPDATE: offer_updated,
        Action.OFFER_DELETE: offer_deleted,
        Action.OFFER_PUBLISH: lambda api, i: offer_status_changed(api, i, "published", "draft"),
        Action.OFFER_CANCEL: lambda api, i: offer_status_changed(api, i, "canceled", "published"),
    }
    if action not in checks:
        raise Unclear(Say("there is no way to check a {action}", action=Code(str(action))))
    return checks[action](api, intent)


def expected_balance(intent: Intent) -> int:
    assert intent.before is not None
    return PointsChange.parse(intent.requested).new_balance(intent.before)


def points_applied(api: LoyaltyClient, intent: Intent, evidence: int | None = None) -> Any:
    assert intent.target_id is not None and intent.before is not None
    expected = expected_balance(intent)
    customer = _read(lambda: api.get_customer(_target(intent)), N_("the balance"))
    balance = customer.points if evidence is None else evidence
    if balance == expected:
        return customer
    if balance == intent.before:
        return None
    raise Unclear(
        Say(
            "the balance is now {balance:,}: neither {before:,} (before) nor {expected:,} "
            "(with the change), so it was also changed some other way",
            balance=balance,
            before=intent.before,
            expected=expected,
        )
    )


def customer_created(api: LoyaltyClient, intent: Intent) -> Customer | None:
    fields, known = intent.created()
    customers = _read(lambda: api.list_customers(CustomerList.from_json), N_("the customer list"))
    email = (fields.get("email") or "").strip().casefold()
    phone = phone_digits(fields.get("phone") or "")
    name = fold(" ".join(p for p in (fields.get("first_name"), fields.get("last_name")) if p))

    def same(c: Customer) -> bool:
        if email:
            return c.email.strip().casefold() == email
        if phone:
            return phone_digits(c.phone) == phone
        return fold(c.full_name) == name

    return _the_new_one(
        [c for c in customers if same(c) and c.id not in known],
        N_("{count:,} new customers match what was sent"),
    )


def offer_created(api: LoyaltyClient, intent: Intent) -> Offer | None:
    fields, known = intent.created()
    name = fold(fields.get("name") or "")
    offers = _read(api.list_offers, N_("the offer list"))
    return _the_new_one(
        [o for o in offers if fold(o.name) == name and o.id not in known],
        N_("{count:,} new offers match what was sent"),
    )


def _the_new_one(found: list[T], several: str) -> T | None:
    """The one new record that matches; `several`: what to say when more than one do."""
    if len(found) > 1:
        raise Unclear(Say(several, count=len(found)))
    return found[0] if found else None


def customer_updated(api: LoyaltyClient, intent: Intent) -> Customer | None:
    customer = _read(lambda: api.get_customer(_target(intent)), N_("the customer"))
    return _compare_fields(customer, intent)


def offer_updated(api: LoyaltyClient, intent: Intent) -> Offer | None:
    offer = _read(lambda: api.get_offer(_target(intent)), N_("the offer"))
    return _compare_fields(offer, intent)


def _compare_fields(record: T, intent: Intent) -> T | None:
    now = {name: getattr(record, name) for name in intent.changes}
    if all(now[name] == wanted for name, (_, wanted) in intent.changes.items()):
        return record
    if all(now[name] == was for name, (was, _) in intent.changes.items()):
        return None
    raise Unclear(Say("its fields are now neither what they were nor what was sent"))


def customer_deleted(api: LoyaltyClient, intent: Intent) -> Any:
    return _gone(lambda: api.get_customer(_target(intent)), N_("the customer"))


def offer_deleted(api: LoyaltyClient, intent: Intent) -> Any:
    return _gone(lambda: api.get_offer(_target(intent)), N_("the offer"))


def offer_status_changed(
    api: LoyaltyClient, intent: Intent, done: str, before: str
) -> Offer | None:
    offer = _read(lambda: api.get_offer(_target(intent)), N_("the offer"))
    now = "canceled" if offer.is_canceled else offer.status_key
    if now == done:
        return offer
    if now == before:
        return None
    raise Unclear(Say("the offer is now {status}", status=status(offer.status or "")))


def _target(intent: Intent) -> int:
    assert intent.target_id is not None, intent
    return intent.target_id


def _gone(read: Callable[[], Any], what: str) -> Any:
    try:
        read()
    except NotFound:
        return DELETED
    except LoyaltyAPIError as exc:
        raise Unclear(_read_failed(what, exc)) from None
    return None


def _read(read: Callable[[], T], what: str) -> T:
    try:
        return read()
    except NotFound:
        raise Unclear(Say("{what} no longer exists", what=noun(what))) from None
    except LoyaltyAPIError as exc:
        raise Unclear(_read_failed(what, exc)) from None


def _read_failed(what: str, exc: LoyaltyAPIError) -> Say:
    return Say("reading {what} back failed too: {why}", what=noun(what), why=exc.brief)
