"""Settling entries left pending: each is checked against Smart Passes under its record's
lock; one whose lock is held is left to its owner."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.core.intents import Intent
from bot.core.ledger import Ledger
from bot.core.reconcile import reconcile
from bot.domain.audit import Action, Actor, Outcome, utcnow
from bot.i18n import speaking
from bot.offline.sandbox import DEMO_PROGRAM_ID
from bot.slack import blocks
from bot.smartpasses.client import LoyaltyClient
from bot.store.database import Store
from bot.store.locks import ChangeLocks
from tests.demo import JUAN
from tests.harness import text_of

MARTA = Actor("UMARTA")


@pytest.fixture
def store(sqlite_url) -> Store:
    return Store.from_url(sqlite_url)


def _pending(store: Store, intent: Intent, minutes_ago: float = 10) -> int:
    """An entry its process left pending `minutes_ago`."""
    return store.record_by(
        MARTA,
        at=utcnow() - dt.timedelta(minutes=minutes_ago),
        action=intent.action,
        outcome=Outcome.PENDING,
        target_type=intent.target_type,
        target_id=intent.target_id,
        target_name=intent.target_name,
        before=intent.before,
        requested=intent.requested,
        changes=intent.changes,
    )


def _completed(store: Store, before: int, after: int, *, at: dt.datetime | None = None) -> int:
    """A later points change to Juan that completed ok: it read `before`, left `after`."""
    return store.record_by(
        MARTA,
        at=at,
        action=Action.POINTS_ADD if after > before else Action.POINTS_SET,
        outcome=Outcome.OK,
        target_type="customer",
        target_id=JUAN,
        target_name="Juan Pérez",
        before=before,
        after=after,
        requested=f"+{after - before}" if after > before else f"={after}",
    )


def _add(before: int, amount: int) -> Intent:
    return Intent(
        Action.POINTS_ADD, "customer", JUAN, "Juan Pérez", before=before, requested=f"+{amount}"
    )


def test_a_points_change_is_judged_by_the_balance_the_next_change_read(
    client: LoyaltyClient, store: Store, sandbox_state
) -> None:
    pending = _pending(store, _add(5, 10))  # it was applied: 5 -> 15 ...
    later = _completed(store, 15, 40)  # ... then a later change read 15 and set 40
    sandbox_state.update_customer(DEMO_PROGRAM_ID, JUAN, {"points": 40})
    (settled,) = reconcile(client, store, Ledger(store, ChangeLocks()))
    entry = store.entry(pending)
    assert (settled.outcome, entry.outcome, entry.after, entry.resolved) == (
        "ok",
        "ok",
        15,
        "reconciled",
    )
    assert store.entry(later).outcome == "ok"


def test_a_points_change_the_balance_does_not_show_is_failed(client, store) -> None:
    entry_id = _pending(store, _add(5, 10))  # Smart Passes still says 5
    reconcile(client, store, Ledger(store, ChangeLocks()))
    assert store.entry(entry_id).outcome == "failed"


def test_a_recent_entry_is_settled_only_if_it_shows_applied(client, store, sandbox_state) -> None:
    """Its request may still be on its way: not applied cannot be told yet."""
    entry_id = _pending(store, _add(5, 10), minutes_ago=0.5)
    assert reconcile(client, store, Ledger(store, ChangeLocks())) == []
    assert store.entry(entry_id).outcome == "pending"
    sandbox_state.update_customer(DEMO_PROGRAM_ID, JUAN, {"points": 15})  # it arrived
    (settled,) = reconcile(client, store, Ledger(store, ChangeLocks()))
    assert settled.outcome == "ok" and store.entry(entry_id).after == 15


def test_an_unexplained_balance_is_unknown(client, store, sandbox_state) -> None:
    entry_id = _pending(store, _add(5, 10))
    sandbox_state.update_customer(DEMO_PROGRAM_ID, JUAN, {"points": 99})
    reconcile(client, store, Ledger(store, ChangeLocks()))
    entry = store.entry(entry_id)
    assert entry.outcome == "unknown" and "neither 5 (before) nor 15" in entry.detail
    juan = client.get_customer(JUAN)
    with speaking("es"):  # the history, in the reader's words
        history = text_of(blocks.history(juan, [entry], dt.UTC).kwargs())
    assert "no se pudo saber: el saldo ahora es 99: ni 5 (antes) ni 15" in history, history
    assert "could not tell" not in history and "neither" not in history


def test_a_create_is_found_by_what_was_sent_and_named(client, store, sandbox_state) -> None:
    fields = {"first_name": "Rosa", "last_name": "Díaz", "email": "rosa@example.com", "phone": ""}
    intent = Intent(
        Action.CUSTOMER_CREATE,
        "customer",
        None,
        "Rosa Díaz",
        requested=Intent.creating(fields, set()),
    )
    entry_id = _pending(store, intent)
    rosa = sandbox_state.add_customer(
        DEMO_PROGRAM_ID, {"firstName": "Rosa", "lastName": "Díaz", "email": "rosa@example.com"}
    )
    reconcile(client, store, Ledger(store, ChangeLocks()))
    entry = store.entry(entry_id)
    assert (entry.outcome, entry.target_id, entry.target_name) == ("ok", rosa["id"], "Rosa Díaz")


def test_a_publication_request_never_posted_is_failed(client, store) -> None:
    intent = Intent(Action.PUBLISH_REQUEST, "offer", 5002, "Pan dulce 2x1")
    entry_id = _pending(store, intent)
    reconcile(client, store, Ledger(store, ChangeLocks()))
    entry = store.entry(entry_id)
    assert entry.outcome == "failed" and "stopped first" in entry.detail


def test_an_entry_whose_record_is_locked_is_left_to_its_owner(client, store) -> None:
    ledger = Ledger(store, ChangeLocks())
    entry_id = _pending(store, _add(5, 10))
    with ledger.locked(f"customer:{JUAN}", "Juan"):  # its change is still being made
        assert reconcile(client, store, ledger) == []
    assert store.entry(entry_id).outcome == "pending"
    assert len(reconcile(client, store, ledger)) == 1


def test_a_balance_read_while_the_change_may_have_been_in_flight_proves_nothing(
    client: LoyaltyClient, store: Store, sandbox_state
) -> None:
    """A's +10 (5 -> 15) was left pending; B read 5 seconds later, while A's request
    may still have been on its way, and set 15; A's then landed: 25. B's `before` is no
    witness: the entry is flagged unknown, never "not applied"."""
    pending = _pending(store, _add(5, 10))
    a = store.entry(pending)
    _completed(store, 5, 15, at=a.at + dt.timedelta(seconds=5))
    sandbox_state.update_customer(DEMO_PROGRAM_ID, JUAN, {"points": 25})
    (settled,) = reconcile(client, store, Ledger(store, ChangeLocks()))
    entry = store.entry(pending)
    assert (settled.outcome, entry.outcome) == ("unknown", "unknown")
    assert "while this one may still have been on its way" in entry.detail


def test_a_witness_after_the_window_still_settles(client: LoyaltyClient, store: Store) -> None:
    pending = _pending(store, _add(5, 10))
    a = store.entry(pending)
    _completed(store, 5, 40, at=a.at + dt.timedelta(minutes=3))  # past the window: it stands
    (settled,) = reconcile(client, store, Ledger(store, ChangeLocks()))
    assert settled.outcome == "failed" and store.entry(pending).detail == (
        "checked later: not applied"
    )
