"""A change in flight fences its record, for every process and every workspace on its
program: no other change to that record is sent until it is settled, by its own process
completing it or by reconcile. What survives a lost lock session and a dead process is
the fence (the pending intent row), not the lock.

In-process here (the core over SQLite or PostgreSQL, the sandbox through an httpx
transport); the same faults against `serve` processes are in `tests/e2e/test_fences.py`.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from bot.core import ledger as ledger_module
from bot.core.intents import Intent
from bot.core.ledger import IN_FLIGHT, Ledger
from bot.core.reconcile import reconcile
from bot.domain.amounts import Op, PointsChange
from bot.domain.audit import Action, Actor, Outcome, Target
from bot.i18n import speaking
from bot.offline.sandbox import DEMO_PROGRAM_ID, Fault
from bot.slack import blocks
from bot.slack.blocks.audit import describe
from bot.store.locks import ChangeLocks
from bot.store.schema import audit_log
from tests.core import AS_MANAGER, Core, core_over, told
from tests.demo import JUAN
from tests.faults import Gate, behind_proxy, end_lock_sessions
from tests.harness import CLERK, TEAM

ADD_TEN = PointsChange(Op.ADD, 10)


@pytest.fixture(autouse=True)
def short_patience(monkeypatch) -> None:
    """A person meeting a fence waits a little for it to lift; a tenth of a second here."""
    monkeypatch.setattr(ledger_module, "FENCE_WAIT_SECONDS", 0.1)


@pytest.fixture
def core(sandbox, store_url):
    with core_over(sandbox, store_url) as kit:
        yield kit


def _add(core: Core, change: PointsChange = ADD_TEN) -> str:
    return told(lambda: blocks.points_changed(core.service.change_points(AS_MANAGER, JUAN, change)))


def _left_in_flight(core: Core, before: int = 5, *, by: str = CLERK, ago: float = 0) -> int:
    """A change to Juan whose process wrote its intent, sent it and was never heard from
    again (killed, or its lock session lost): its entry is pending and fences Juan."""
    intent = Intent(
        Action.POINTS_ADD, Target.CUSTOMER, JUAN, "Juan Pérez", before=before, requested="+10"
    )
    pending = core.ledger.begin(Actor(by, TEAM), intent)
    if ago:
        earlier = pending.at - dt.timedelta(seconds=ago)
        with core.store.engine.begin() as conn:
            conn.execute(
                audit_log.update().where(audit_log.c.id == pending.entry_id).values(at=earlier)
            )
    return pending.entry_id


def _chain_holds(core: Core) -> None:
    """The balance equals the chain of recorded changes: each ok change starts where the
    one before it ended, and the last one ends at the balance Smart Passes holds."""
    changes = [
        e
        for e in core.store.entries(target_id=JUAN, oldest_first=True, limit=None)
        if e.is_points and e.outcome == Outcome.OK
    ]
    balance = 5
    for entry in changes:
        assert entry.before == balance, changes
        balance = entry.after
    assert core.points(JUAN) == balance


def test_a_fenced_record_is_refused_saying_who_started_what_and_when(core) -> None:
    held = _left_in_flight(core, ago=40)
    reply = _add(core)
    assert (
        "A change to Juan Pérez by <@UCLERK> is still being settled (started 40 seconds ago); "
        "nothing was changed. Try again in 2 minutes." in reply
    )
    assert core.writes() == [] and core.points(JUAN) == 5
    refused = core.store.entries(target_id=JUAN, limit=1)[0]
    assert (
        refused.outcome == Outcome.REFUSED
        and f"another change (#{held}) was still" in refused.detail
    )
    with speaking("es"):  # the history says why in the reader's words
        assert f"otro cambio (#{held}) seguía en curso" in describe(refused)
    assert core.store.entry(held).outcome == Outcome.PENDING  # still the fence


def test_a_fence_about_to_lift_is_waited_for(core, monkeypatch) -> None:
    """Its own process is completing it: the next change waits and then goes ahead."""
    monkeypatch.setattr(ledger_module, "FENCE_WAIT_SECONDS", 30)
    held = core.ledger.begin(
        Actor(CLERK, TEAM),
        Intent(Action.POINTS_ADD, Target.CUSTOMER, JUAN, "Juan Pérez", before=5, requested="+10"),
    )
    met = threading.Event()
    fenced_by = core.store.fenced_by

    def meeting(fence: str):
        met.set()
        return fenced_by(fence)

    monkeypatch.setattr(core.store, "fenced_by", meeting)
    replies: list[str] = []
    waiter = threading.Thread(target=lambda: replies.append(_add(core)))
    waiter.start()
    assert met.wait(10)
    core.program.customers[JUAN]["points"] = 15  # the held change landed ...
    core.ledger.finish(held, Outcome.OK, after=15)  # ... and its process completed it
    waiter.join(10)
    assert "15 → *25*" in replies[0]
    _chain_holds(core)


def test_an_old_fence_is_settled_on_the_spot_and_the_change_goes_ahead(core) -> None:
    """Past its in-flight window the change can no longer land: the next change settles it
    as reconcile would (here it did land), then goes ahead on the true balance."""
    held = _left_in_flight(core, ago=IN_FLIGHT.total_seconds() + 1)
    core.program.customers[JUAN]["points"] = 15  # it landed after its process died
    assert "15 → *25*" in _add(core)
    settled = core.store.entry(held)
    assert (settled.outcome, settled.resolved, settled.after, settled.fence) == (
        "ok",
        "reconciled",
        15,
        None,
    )
    _chain_holds(core)


def test_an_unknown_outcome_keeps_the_record_fenced_until_it_is_settled(core) -> None:
    """No answer came: the request may still land, so nothing else is sent to Juan until
    the window has passed and the change is settled."""
    core.sandbox.inject("add_points", Fault.DROP)
    assert "may still be working on it" in _add(core)
    (unknown,) = core.store.entries(target_id=JUAN)
    assert unknown.outcome == Outcome.UNKNOWN and unknown.fence
    writes = len(core.writes())
    assert "is still being settled" in _add(core)
    assert len(core.writes()) == writes  # nothing sent
    with core.store.engine.begin() as conn:  # the window passes
        conn.execute(
            audit_log.update()
            .where(audit_log.c.id == unknown.id)
            .values(at=unknown.at - IN_FLIGHT - dt.timedelta(seconds=1))
        )
    assert "5 → *15*" in _add(core)
    settled = core.store.entry(unknown.id)
    assert (settled.outcome, settled.detail, settled.fence) == (
        "failed",
        "checked later: not applied",
        None,
    )
    _chain_holds(core)


def test_a_completed_change_lifts_its_fence(core) -> None:
    assert "5 → *15*" in _add(core)
    assert "15 → *25*" in _add(core)
    assert all(e.fence is None for e in core.store.entries(target_id=JUAN))


def test_a_refused_change_lifts_its_fence(core) -> None:
    core.sandbox.inject("add_points", Fault.REFUSE_422)
    _add(core)
    assert "5 → *15*" in _add(core)


def test_two_ledgers_on_one_program_share_fences_and_two_programs_do_not(core) -> None:
    """Another workspace connected to the same program meets the same fence; a ledger of
    another program has fences of its own (its customer 1870 is another person)."""
    _left_in_flight(core)
    program = core.ledger.program
    other_workspace = Ledger(core.store.for_workspace("T0OTHER"), ChangeLocks(), program=program)
    intent = Intent(
        Action.POINTS_ADD, Target.CUSTOMER, JUAN, "Juan Pérez", before=5, requested="+1"
    )
    with pytest.raises(Exception, match="someone in another workspace"):
        other_workspace.begin(Actor("UOTHER", "T0OTHER"), intent)
    other_program = Ledger(core.store, ChangeLocks(), program="2002@elsewhere")
    other_program.begin(Actor("UOTHER", TEAM), intent)  # no fence of theirs


def test_reconcile_settles_an_unknown_change_and_lifts_its_fence(core) -> None:
    core.sandbox.inject("add_points", Fault.APPLY_THEN_DROP)
    _add(core)  # applied, but no answer: checking shows it, so it is ok at once
    (entry,) = core.store.entries(target_id=JUAN)
    assert entry.outcome == Outcome.OK and entry.fence is None
    core.sandbox.inject("add_points", Fault.DROP)
    _add(core)
    unknown = core.store.entries(target_id=JUAN, limit=1)[0]
    assert unknown.outcome == Outcome.UNKNOWN and unknown.fence
    assert reconcile(core.loyalty, core.store, core.ledger) == []  # too young to say
    later = unknown.at + IN_FLIGHT + dt.timedelta(seconds=1)
    (settled,) = reconcile(core.loyalty, core.store, core.ledger, now=later)
    assert settled.outcome == Outcome.FAILED
    assert core.store.entry(unknown.id).fence is None
    assert "15 → *25*" in _add(core)


# -- a lock lost mid-change (PostgreSQL) ------------------------------------------------


def _held_in_a_thread(core: Core, change: PointsChange) -> tuple[threading.Thread, list[str]]:
    told_a: list[str] = []
    thread = threading.Thread(
        target=lambda: told_a.append(
            told(
                lambda: blocks.points_changed(
                    core.service.change_points(AS_MANAGER, JUAN, change, "A")
                )
            )
        )
    )
    thread.start()
    return thread, told_a


@pytest.fixture
def two_processes_on_postgres(sandbox):
    """Two cores with their own lock sessions on one PostgreSQL database, like two `serve`
    processes, and Juan at 40 points."""
    from tests.conftest import fresh_postgres

    url = fresh_postgres()
    sandbox.state.update_customer(DEMO_PROGRAM_ID, JUAN, {"points": 40})
    with core_over(sandbox, url) as a, core_over(sandbox, url) as b:
        yield a, b, url


def test_a_lock_session_ended_mid_change_cannot_let_another_change_in(
    two_processes_on_postgres,
) -> None:
    """A's -30 is at Smart Passes when its lock session is ended; B takes the lock at once
    but meets A's fence, so B's -5 is not sent. A's change lands; A learns its lock was
    lost, checks, and records 40 -> 10 as checked. The balance equals the chain."""
    a, b, url = two_processes_on_postgres
    gate = Gate(a.sandbox, "PUT", f"/customers/{JUAN}")
    thread, told_a = _held_in_a_thread(a, PointsChange(Op.DEDUCT, 30))
    assert gate.entered.wait(10)
    assert end_lock_sessions(url) >= 1
    told_b = told(
        lambda: blocks.points_changed(
            b.service.change_points(AS_MANAGER, JUAN, PointsChange(Op.DEDUCT, 5), "B")
        )
    )
    assert "is still being settled" in told_b and "nothing was changed" in told_b
    gate.release()
    thread.join(15)
    assert "40 → *10*" in told_a[0] and "checking showed the change was applied" in told_a[0]
    a_entry = next(e for e in a.store.entries(target_id=JUAN) if e.reason == "A")
    assert (a_entry.outcome, a_entry.resolved, a_entry.before, a_entry.after) == (
        "ok",
        "checked",
        40,
        10,
    )
    assert a.points(JUAN) == 10
    assert not [e for e in a.store.entries(target_id=JUAN) if e.outcome == "ok" and e.reason == "B"]


def test_a_cut_connection_to_postgres_mid_change_is_told_truly_and_settled_later(sandbox) -> None:
    """The same through a proxy that is cut: A cannot even complete its entry. B is fenced
    out; reconcile later settles A's change as applied (the balance shows it)."""
    from tests.conftest import fresh_postgres

    url = fresh_postgres()
    sandbox.state.update_customer(DEMO_PROGRAM_ID, JUAN, {"points": 40})
    with (
        behind_proxy(url) as (proxy, via_proxy),
        core_over(sandbox, via_proxy) as a,
        core_over(sandbox, url) as b,
    ):
        gate = Gate(a.sandbox, "PUT", f"/customers/{JUAN}")
        thread, told_a = _held_in_a_thread(a, PointsChange(Op.DEDUCT, 30))
        assert gate.entered.wait(10)
        proxy.cut()
        told_b = told(
            lambda: blocks.points_changed(
                b.service.change_points(AS_MANAGER, JUAN, PointsChange(Op.DEDUCT, 5), "B")
            )
        )
        assert "is still being settled" in told_b
        gate.release()
        thread.join(15)
        assert "40 → *10*" in told_a[0] and "could not finish writing" in told_a[0]
        pending = next(e for e in b.store.entries(target_id=JUAN) if e.reason == "A")
        assert pending.outcome == "pending" and pending.fence
        proxy.restore()
        (settled,) = reconcile(b.loyalty, b.store, b.ledger)
        assert settled.outcome == "ok"
        entry = b.store.entry(pending.id)
        assert (entry.outcome, entry.before, entry.after, entry.fence) == ("ok", 40, 10, None)
        assert b.points(JUAN) == 10
        assert "10 → *5*" in told(
            lambda: blocks.points_changed(
                b.service.change_points(AS_MANAGER, JUAN, PointsChange(Op.DEDUCT, 5), "B")
            )
        )


def test_a_lock_lost_before_sending_sends_nothing(two_processes_on_postgres) -> None:
    """A has read Juan's balance under its lock when its lock session ends: it learns so
    before sending, sends nothing, says so (safe to try again) and lifts its fence."""
    a, _b, url = two_processes_on_postgres
    gate = Gate(a.sandbox, "GET", f"/customers/{JUAN}")  # the read under the lock
    thread, told_a = _held_in_a_thread(a, PointsChange(Op.DEDUCT, 30))
    assert gate.entered.wait(10)
    assert end_lock_sessions(url) >= 1
    gate.release()
    thread.join(15)
    assert "I lost my connection to my database just before sending" in told_a[0]
    assert a.writes() == [] and a.points(JUAN) == 40
    (entry,) = [e for e in a.store.entries(target_id=JUAN) if e.reason == "A"]
    assert (entry.outcome, entry.fence) == ("failed", None)
