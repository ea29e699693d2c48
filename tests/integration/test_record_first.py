"""No change without a record, and no record left unfinished.

The intent is written before any call: if the bot's database cannot take it (read-only,
locked by another process, PostgreSQL unreachable), nothing is sent and the person is
told why. If the database goes away after the change was sent, the change is reported
as made and its entry stays pending until it is reconciled. A process killed mid-change
leaves a pending entry that the next start (or `loyalty-bot reconcile`) settles against
Smart Passes; a summary killed while building leaves nothing that blocks the next one.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bot.core.reconcile import SETTLE_AFTER, reconcile
from bot.domain.amounts import Op, PointsChange
from bot.offline.sandbox import DEMO_PROGRAM_ID, Fault
from bot.offline.slack_requests import SlackRequests
from bot.slack import blocks
from bot.store.database import Store
from bot.store.schema import audit_log, summary_posts
from tests.conftest import fresh_postgres
from tests.core import AS_MANAGER, Core, core_over, told
from tests.demo import JUAN
from tests.faults import Gate, behind_proxy, make_read_only, sqlite_locked_by_another_process
from tests.harness import (
    MANAGER,
    SIGNING_SECRET,
    bot_process,
    free_port,
    process_env,
    run_cli,
    wait_until,
)
from tests.unit.test_records import customer_fields

CANNOT_RECORD = "Nothing was changed: I cannot record changes right now"
ADD_TEN = PointsChange(Op.ADD, 10)


def _add(core: Core, reason: str = "") -> str:
    """Add 10 points to Juan: what the manager is told."""
    return told(
        lambda: blocks.points_changed(core.service.change_points(AS_MANAGER, JUAN, ADD_TEN, reason))
    )


def _nothing_changed(core: Core) -> None:
    assert core.writes() == [] and core.points(JUAN) == 5


# -- the intent cannot be written: nothing is sent ------------------------------------


def test_read_only_database_changes_nothing(core) -> None:
    make_read_only(core.store.engine)
    assert CANNOT_RECORD in _add(core)
    created = told(
        lambda: core.service.create_customer(AS_MANAGER, customer_fields(first_name="Rosa"))
    )
    assert CANNOT_RECORD in created
    _nothing_changed(core)


@pytest.fixture
def impatient_core(sandbox, tmp_path, monkeypatch) -> Iterator[Core]:
    """The core over SQLite that gives up on a locked database after 0.3 s."""
    monkeypatch.setattr("bot.store.database.SQLITE_BUSY_SECONDS", 0.3)
    with core_over(sandbox, f"sqlite:///{tmp_path / 'bot.db'}") as core:
        yield core


def test_database_locked_by_another_process_changes_nothing(impatient_core) -> None:
    core = impatient_core
    with sqlite_locked_by_another_process(core.store.engine.url.database):
        assert CANNOT_RECORD in _add(core)
        _nothing_changed(core)
    assert "5 → *15*" in _add(core)  # the lock is gone: it works again


@pytest.fixture
def postgres_behind_proxy():
    """A fresh PostgreSQL database, reached through a proxy the test can cut."""
    with behind_proxy(fresh_postgres()) as (proxy, url):
        yield proxy, url


def test_postgres_unreachable_changes_nothing(sandbox, postgres_behind_proxy) -> None:
    proxy, url = postgres_behind_proxy
    with core_over(sandbox, url) as core:
        proxy.cut()
        assert CANNOT_RECORD in _add(core)
        _nothing_changed(core)
        proxy.restore()
        assert "5 → *15*" in _add(core)


# -- the database goes away after the change was sent ----------------------------------


def _lose_the_database_during_the_add(core: Core, lose) -> None:
    def during(method: str, path: str) -> None:
        if path.endswith("/points/add"):
            lose()

    core.sandbox.before = during


def _applied_then_settled_later(core: Core, restore) -> None:
    reply = _add(core, "birthday")
    assert "5 → *15*" in reply and "could not finish writing it to my records" in reply
    assert core.points(JUAN) == 15
    restore()
    (entry,) = core.store.entries(target_id=JUAN)
    assert entry.outcome == "pending"
    (settled,) = reconcile(core.loyalty, core.store, core.ledger)
    assert settled.outcome == "ok"
    (entry,) = core.store.entries(target_id=JUAN)
    assert (entry.outcome, entry.resolved, entry.before, entry.after, entry.reason) == (
        "ok",
        "reconciled",
        5,
        15,
        "birthday",
    )


def test_sqlite_lost_after_sending_is_reported_done_and_settled_later(impatient_core) -> None:
    core = impatient_core
    lock = sqlite_locked_by_another_process(core.store.engine.url.database)
    _lose_the_database_during_the_add(core, lock.__enter__)
    _applied_then_settled_later(core, lambda: lock.__exit__(None, None, None))


def test_postgres_lost_after_sending_is_reported_done_and_settled_later(
    sandbox, postgres_behind_proxy
) -> None:
    proxy, url = postgres_behind_proxy
    with core_over(sandbox, url) as core:
        _lose_the_database_during_the_add(core, proxy.cut)
        _applied_then_settled_later(core, proxy.restore)


# -- a process killed mid-change -------------------------------------------------------


def _serve(slack_url: str, sandbox_url: str, tmp_path) -> tuple[list[str], dict[str, str], str]:
    port = free_port()
    argv = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)]
    return argv, process_env(slack_url, sandbox_url, tmp_path), f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("applied", [True, False], ids=["applied", "never applied"])
def test_serve_killed_mid_change_then_a_restart_settles_it(
    sandbox, sandbox_url, slack_standin, tmp_path, applied: bool
) -> None:
    argv, env, base = _serve(slack_standin.base_url, sandbox_url, tmp_path)
    gate = Gate(sandbox, "POST", "/points/add")
    with bot_process(argv, env, tmp_path, base) as proc:
        requests = SlackRequests(base, SIGNING_SECRET, slack_standin)
        requests.command("points 1870 10 birthday", user=MANAGER, channel="CSHOP")
        assert gate.entered.wait(15)
        proc.kill()  # kill -9, with the request at Smart Passes
        proc.wait(10)
    if not applied:
        sandbox.inject("add_points", Fault.FAIL_500)  # it fails before applying anything
    gate.release()
    wait_until(lambda: sandbox.calls_to("POST", "/points/add"), what="the add to finish")
    assert sandbox.state.customer(DEMO_PROGRAM_ID, JUAN)["points"] == (15 if applied else 5)
    store = Store.from_url(env["DATABASE_URL"])
    (entry,) = store.entries(target_id=JUAN)
    assert entry.outcome == "pending" and entry.before == 5
    if not applied:  # "not applied" is only concluded once any answer would have landed
        _backdate(store, entry.id, SETTLE_AFTER)

    with bot_process(argv, env, tmp_path, base):  # the restart settles it at once
        entry = wait_until(lambda: _settled(store), what="the pending change to be settled")
    assert entry.resolved == "reconciled"
    if applied:
        assert (entry.outcome, entry.after) == ("ok", 15)
    else:
        assert entry.outcome == "failed" and "not applied" in entry.detail
    store.engine.dispose()


def _backdate(store: Store, entry_id: int, by: dt.timedelta) -> None:
    """As if the restart came `by` later."""
    entry = store.entry(entry_id)
    assert entry is not None
    earlier = entry.at - by - dt.timedelta(seconds=1)
    with store.engine.begin() as conn:
        conn.execute(audit_log.update().where(audit_log.c.id == entry_id).values(at=earlier))


def _settled(store: Store):
    (entry,) = store.entries(target_id=JUAN)
    return entry if entry.outcome != "pending" else None


def test_reconcile_command_settles_what_a_stopped_process_left(
    sandbox, sandbox_url, slack_standin, tmp_path
) -> None:
    argv, env, base = _serve(slack_standin.base_url, sandbox_url, tmp_path)
    gate = Gate(sandbox, "PUT", f"/customers/{JUAN}")
    with bot_process(argv, env, tmp_path, base) as proc:
        requests = SlackRequests(base, SIGNING_SECRET, slack_standin)
        requests.command("points 1870 =40 recount", user=MANAGER, channel="CSHOP")
        assert gate.entered.wait(15)
        proc.kill()
        proc.wait(10)
    gate.release()
    wait_until(lambda: sandbox.calls_to("PUT", f"/customers/{JUAN}"), what="the PUT to finish")

    def reconcile_command() -> subprocess.CompletedProcess:
        return run_cli("reconcile", env=env, cwd=tmp_path)

    result = reconcile_command()
    assert result.returncode == 0, result.stderr
    assert "points.set customer 1870 Juan Pérez" in result.stdout and ": ok," in result.stdout
    assert "1 pending change(s) settled." in result.stdout
    assert reconcile_command().stdout.strip() == "Nothing was pending."


def test_summary_killed_while_building_leaves_the_day_to_the_next_run(
    sandbox, sandbox_url, slack_standin, tmp_path
) -> None:
    env = {
        **os.environ,
        **process_env(slack_standin.base_url, sandbox_url, tmp_path),
        "LOYALTY_SUMMARY_CHANNEL": "CSUM",
    }
    argv = [sys.executable, "-m", "bot", "summary", "--post"]
    gate = Gate(sandbox, "GET", "/customers")
    building = subprocess.Popen(argv, env=env, cwd=tmp_path)
    assert gate.entered.wait(30)
    building.kill()  # kill -9 while it reads the customer list
    building.wait(10)
    gate.release()
    store = Store.from_url(env["DATABASE_URL"])
    with store.engine.connect() as conn:  # nothing claimed: the figures come first
        assert conn.execute(sa.select(sa.func.count()).select_from(summary_posts)).scalar() == 0
    result = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("Posted the summary"), result
    assert len(slack_standin.calls_to("chat.postMessage")) == 1
    store.engine.dispose()
