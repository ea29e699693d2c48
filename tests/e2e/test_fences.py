"""Faults that outlive a lock, end to end: `loyalty-bot serve` processes on one database
(SQLite file or PostgreSQL) with the sandbox holding a write, and two workspaces on one
program. In every one, the balance ends equal to the chain of recorded changes, and no ✅
is given for a change that did not stand alone. (The core alone: tests/integration/
test_fences.py.)"""

from __future__ import annotations

import datetime as dt
import sys
from contextlib import ExitStack

import pytest

from bot.core.ledger import IN_FLIGHT
from bot.offline.sandbox import DEMO_APP_KEY, DEMO_PROGRAM_ID
from bot.offline.slack_requests import SlackRequests
from bot.store.database import Store
from bot.store.schema import audit_log
from tests.conftest import fresh_postgres
from tests.demo import JUAN, LUIS
from tests.faults import Gate, behind_proxy, end_lock_sessions
from tests.harness import (
    MANAGER,
    OWNER,
    SECOND_OWNER,
    SECOND_TEAM,
    SIGNING_SECRET,
    TEAM,
    bot_process,
    free_ports,
    installed_bot,
    process_env,
    text_of,
    wait_until,
)


def _chain_holds(store: Store, customer_id: int, start: int, balance: int) -> list[int]:
    """The ok changes to the customer, oldest first, each starting where the one before
    ended, the last ending at `balance` (Smart Passes' own): returns their afters."""
    afters, at = [], start
    for entry in store.entries(target_id=customer_id, oldest_first=True, limit=None):
        if entry.is_points and entry.outcome == "ok":
            assert entry.before == at, (entry, at)
            at = entry.after
            afters.append(at)
    assert at == balance
    return afters


def _two_served() -> list[tuple[list[str], str]]:
    """Two `serve` processes' command lines and base URLs, on different ports (two
    ports asked for one after the other may be the same one: then the first process's
    answers would pass for the second's)."""
    return [
        (
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
            f"http://127.0.0.1:{port}",
        )
        for port in free_ports(2)
    ]


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> str:
    return fresh_postgres() if request.param == "postgresql" else f"sqlite:///{tmp_path / 'bot.db'}"


def test_a_killed_process_a_retry_and_a_late_landing(
    sandbox, sandbox_url, slack_standin, tmp_path, database
) -> None:
    """A sends +10 (balance 5) and is killed with it at Smart Passes. Marta, with no
    answer, retries on B: B meets A's fence and sends nothing. A's request lands (15).
    Once its window has passed, Marta's next change on B settles A's (applied) and goes
    ahead; a restart of B tells Marta, once, how her first change ended."""
    env = process_env(slack_standin.base_url, sandbox_url, tmp_path, DATABASE_URL=database)
    (argv_a, base_a), (argv_b, base_b) = _two_served()
    gate = Gate(sandbox, "POST", "/points/add")
    with ExitStack() as stack:
        a = stack.enter_context(bot_process(argv_a, env, tmp_path, base_a))
        b = stack.enter_context(bot_process(argv_b, env, tmp_path, base_b))
        SlackRequests(base_a, SIGNING_SECRET, slack_standin).command(
            f"points {JUAN} 10 first", user=MANAGER, channel="CSHOP"
        )
        assert gate.entered.wait(15)
        a.kill()  # kill -9, its request at Smart Passes
        a.wait(10)
        on_b = SlackRequests(base_b, SIGNING_SECRET, slack_standin)
        on_b.command(f"points {JUAN} 10 retry", user=MANAGER, channel="CSHOP")
        (fenced,) = [text_of(c.args) for c in slack_standin.wait_for("response_url", timeout=30)]
        assert "A change to Juan Pérez by <@UMANAGER> is still being settled" in fenced
        assert "nothing was changed" in fenced and "✅" not in fenced
        gate.release()  # A's request, still in flight, lands
        wait_until(lambda: sandbox.state.customer(DEMO_PROGRAM_ID, JUAN)["points"] == 15)
        store = Store.from_url(database)
        first = next(e for e in store.entries(target_id=JUAN) if e.reason == "first")
        assert first.outcome == "pending" and first.fence
        with store.engine.begin() as conn:  # its window passes
            conn.execute(
                audit_log.update()
                .where(audit_log.c.id == first.id)
                .values(at=first.at - IN_FLIGHT - dt.timedelta(seconds=1))
            )
        on_b.command(f"points {JUAN} 5 later", user=MANAGER, channel="CSHOP")
        replies = slack_standin.wait_for("response_url", count=2, timeout=30)
        assert "15 → *20*" in text_of(replies[1].args)
        settled = store.entry(first.id)
        assert (settled.outcome, settled.resolved, settled.after, settled.fence) == (
            "ok",
            "reconciled",
            15,
            None,
        )
        assert _chain_holds(store, JUAN, 5, 20) == [15, 20]
        retry = next(e for e in store.entries(target_id=JUAN) if e.outcome == "refused")
        assert f"another change (#{first.id}) was still in progress" in retry.detail
        b.terminate()
        b.wait(30)
    with bot_process(argv_b, env, tmp_path, base_b):  # its first sweep tells Marta
        (dm,) = slack_standin.wait_for("chat.postMessage", timeout=30)
    told = text_of(dm.args)
    assert "Your change of" in told and "is settled" in told and "5 → 15" in told
    assert "It was applied" in told and "*Juan Pérez* has 15 points now" in told
    store.engine.dispose()


def test_two_workspaces_on_one_program_exclude_each_other(sandbox, sandbox_url, sqlite_url):
    """Both shops of a chain are connected to the same program. The first shop's -30 is
    held at Smart Passes: the second shop's -5 waits for the program's lock, and when the
    first ends with no answer (it may still land), meets its fence and sends nothing.
    The -30 lands; once settled, the record is 40 -> 10, and no ✅ was given."""
    from bot.core.reconcile import reconcile

    with installed_bot(sandbox, sandbox_url, sqlite_url) as installs:
        assert installs.install(TEAM, OWNER).status_code == 200
        assert installs.install(SECOND_TEAM, SECOND_OWNER).status_code == 200
        for team, owner in ((TEAM, OWNER), (SECOND_TEAM, SECOND_OWNER)):
            connected = installs.connect(team, owner, DEMO_APP_KEY, DEMO_PROGRAM_ID)
            assert "Connected to program" in text_of(connected["view"]), connected
        gate = Gate(sandbox, "PUT", f"/customers/{LUIS}")
        bot = installs.as_team(TEAM)
        seen = len(bot.slack.calls_to("response_url"))
        bot.command(f"points {LUIS} -30 first shop", user=OWNER)
        assert gate.entered.wait(15)
        installs.as_team(SECOND_TEAM).command(f"points {LUIS} -5 second shop", user=SECOND_OWNER)
        told = [
            text_of(c.args)
            for c in bot.slack.wait_for("response_url", count=seen + 2, timeout=30)[seen:]
        ]
        bot.settle()
        assert any("may still be working on it" in t for t in told), told  # the first shop
        assert any(
            "A change to Luis Hernández by someone in another workspace connected to this "
            "program is still being settled" in t
            for t in told
        ), told
        assert not any("✅" in t for t in told)
        gate.release()  # the -30 lands
        wait_until(lambda: sandbox.state.customer(DEMO_PROGRAM_ID, LUIS)["points"] == 10)
        services = installs.workspaces.services_for(TEAM)
        service = services.service
        later = dt.datetime.now(dt.UTC) + IN_FLIGHT + dt.timedelta(seconds=1)
        (settled,) = reconcile(service.api, service.store, service.ledger, now=later)
        assert settled.outcome == "ok"
        with bot.store.engine.connect() as conn:
            rows = conn.execute(
                audit_log.select().where(audit_log.c.target_id == LUIS).order_by(audit_log.c.id)
            ).all()
        assert [(r.team_id, r.action, r.outcome, r.before, r.after) for r in rows] == [
            (TEAM, "points.deduct", "ok", 40, 10),
            (SECOND_TEAM, "refused", "refused", None, None),
        ]
        assert all(r.fence is None for r in rows)


def test_a_change_settled_later_is_told_once_in_the_persons_language(bot_with) -> None:
    """Rocío's add got no answer; reconcile later finds it applied. She is told in
    Spanish, once. A change nobody can settle is told too, and raised in the audit
    channel."""
    from bot.core.reconcile import reconcile
    from bot.offline.sandbox import Fault
    from bot.runtime.app import slack_client
    from bot.runtime.settled import tell_settled
    from tests.harness import GERENTE

    bot = bot_with(loyalty_managers=f"{MANAGER},{GERENTE}", loyalty_audit_channel="CAUDIT")
    service, client = bot.services.service, slack_client(bot.settings)
    bot.sandbox.inject("add_points", Fault.DROP)
    bot.command(f"puntos {JUAN} 10", user=GERENTE)
    assert "✅" not in text_of(bot.reply())
    (entry,) = service.store.entries(target_id=JUAN)
    assert entry.outcome == "unknown" and entry.fence
    bot.sandbox.state.update_customer(DEMO_PROGRAM_ID, JUAN, {"points": 15})  # it landed
    (settled,) = reconcile(service.api, service.store, service.ledger)
    assert settled.outcome == "ok"
    assert tell_settled(bot.services, client) == 1
    assert tell_settled(bot.services, client) == 0  # once
    (dm,) = bot.slack.calls_to("chat.postMessage")
    told = text_of(dm.args)
    assert "Tu cambio del" in told and "5 → 15" in told and "Se aplicó" in told
    assert "*Juan Pérez* tiene 15 puntos ahora" in told

    bot.sandbox.inject("add_points", Fault.DROP)  # again, and this time nobody can tell
    bot.command(f"puntos {JUAN} 10", user=GERENTE)
    bot.reply()
    unknown = service.store.entries(target_id=JUAN, limit=1)[0]
    bot.sandbox.state.update_customer(DEMO_PROGRAM_ID, JUAN, {"points": 99})
    later = unknown.at + IN_FLIGHT + dt.timedelta(seconds=1)
    (settled,) = reconcile(service.api, service.store, service.ledger, now=later)
    assert settled.outcome == "unknown"
    assert tell_settled(bot.services, client) == 1
    posts = bot.slack.calls_to("chat.postMessage")
    flagged = [text_of(c.args) for c in posts if c.args.get("channel") == "CAUDIT"]
    assert len(flagged) == 1 and "Flagged: the balance does not match" in flagged[0]
    assert any("Todavía no puedo saber" in text_of(c.args) for c in posts)
    assert any("*Juan Pérez* tiene 99 puntos ahora" in text_of(c.args) for c in posts)


@pytest.mark.parametrize("how", ["backend terminated", "proxy cut"])
def test_a_lock_lost_mid_change_lets_no_other_change_in(
    sandbox, sandbox_url, slack_standin, tmp_path, how
) -> None:
    """A's -30 (Luis has 40) is at Smart Passes when the PostgreSQL session holding A's
    lock ends: an administrator's pg_terminate_backend, or the connection cut (a proxy in
    front of PostgreSQL dies). B takes the lock at once but meets A's fence: its -5 is
    not sent. A's change lands, and A, which learns its lock was lost, checks it."""
    url = fresh_postgres()
    stack = ExitStack()
    proxy, via_proxy = stack.enter_context(behind_proxy(url))
    env_a = process_env(slack_standin.base_url, sandbox_url, tmp_path, DATABASE_URL=via_proxy)
    env_b = process_env(slack_standin.base_url, sandbox_url, tmp_path, DATABASE_URL=url)
    (argv_a, base_a), (argv_b, base_b) = _two_served()
    gate = Gate(sandbox, "PUT", f"/customers/{LUIS}")
    with (
        stack,
        bot_process(argv_a, env_a, tmp_path, base_a),
        bot_process(argv_b, env_b, tmp_path, base_b),
    ):
        SlackRequests(base_a, SIGNING_SECRET, slack_standin).command(
            f"points {LUIS} -30 A", user=MANAGER, channel="CSHOP"
        )
        assert gate.entered.wait(15)
        if how == "proxy cut":
            proxy.cut()
        else:  # A's lock session, the only one holding a lock
            assert end_lock_sessions(url) == 1
        SlackRequests(base_b, SIGNING_SECRET, slack_standin).command(
            f"points {LUIS} -5 B", user=MANAGER, channel="CSHOP"
        )
        (fenced,) = [text_of(c.args) for c in slack_standin.wait_for("response_url")]
        assert "is still being settled" in fenced and "✅" not in fenced
        gate.release()
        replies = slack_standin.wait_for("response_url", count=2, timeout=30)
        told_a = text_of(replies[1].args)
        assert "40 → *10*" in told_a, told_a
        if how == "proxy cut":  # A could not even complete its record
            assert "could not finish writing it to my records" in told_a
            proxy.restore()
        else:
            assert "checking showed the change was applied" in told_a
        store = Store.from_url(url)
        wait_until(  # A's own completion, or its next start's reconcile
            lambda: (
                all(e.outcome != "pending" for e in store.entries(target_id=LUIS))
                or _settle_now(store, sandbox_url)
            ),
            timeout=30,
        )
        assert sandbox.state.customer(DEMO_PROGRAM_ID, LUIS)["points"] == 10
        assert _chain_holds(store, LUIS, 40, 10) == [10]
        store.engine.dispose()


def _settle_now(store: Store, sandbox_url: str) -> bool:
    """Run reconcile here (the serving processes sweep only every minute)."""
    from bot.core.ledger import Ledger
    from bot.core.reconcile import reconcile
    from bot.smartpasses.client import LoyaltyClient
    from bot.store.locks import locks_for

    with LoyaltyClient(
        app_key=DEMO_APP_KEY, program_id=DEMO_PROGRAM_ID, base_url=sandbox_url
    ) as api:
        locks = locks_for(store.engine)
        try:
            reconcile(api, store, Ledger(store, locks, program=api.program))
        finally:
            locks.close()
    return all(e.outcome != "pending" for e in store.entries(target_id=LUIS))
