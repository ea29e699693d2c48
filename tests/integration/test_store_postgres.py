"""The unit tests that take `store_url`, again on PostgreSQL (they run in-process, on
SQLite in memory, in tests/unit); skipped when LOYALTY_TEST_DATABASE_URL is not set."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from bot.domain.audit import Action, Outcome
from bot.store import base
from bot.store.audit_log import FenceTaken
from bot.store.bot_identity import token_digest
from bot.store.database import Store
from bot.store.schema import bot_identity
from tests.conftest import fresh_postgres
from tests.harness import wait_until
from tests.unit.test_store import (  # collected again here, on PostgreSQL
    test_a_database_made_by_the_old_runner_is_upgraded_in_place,
    test_a_fresh_database_is_migrated_to_head_once,
    test_record_and_query_entries,
    test_the_migrations_make_exactly_the_tables_the_code_uses,
)
from tests.unit.test_workspaces import (  # collected again here, on PostgreSQL
    test_a_change_is_completed_and_counted_in_its_own_workspace_only,
    test_each_workspace_has_its_own_records,
)

__all__ = [
    "test_a_change_is_completed_and_counted_in_its_own_workspace_only",
    "test_a_database_made_by_the_old_runner_is_upgraded_in_place",
    "test_a_fresh_database_is_migrated_to_head_once",
    "test_each_workspace_has_its_own_records",
    "test_record_and_query_entries",
    "test_the_migrations_make_exactly_the_tables_the_code_uses",
]


@pytest.fixture
def store_url() -> Iterator[str]:
    yield fresh_postgres()


def test_a_url_as_heroku_writes_it_opens_the_store(store_url) -> None:
    """DATABASE_URL=postgres://… (set by the platform) works as it is."""
    plain = "postgres://" + store_url.split("://", 1)[1]
    store = Store.from_url(plain)
    assert store.engine.dialect.driver == "psycopg" and store.reachable()
    assert store.schema_version() == Store.from_url(store_url).schema_version() is not None
    store.engine.dispose()


def _last_statement(url: str, pid: int) -> str | None:
    """What the server last ran for session `pid` (pg_stat_activity); None once the
    session is gone."""
    watcher = sa.create_engine(url)
    try:
        with watcher.connect() as conn:
            return conn.execute(
                sa.text("SELECT query FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).scalar()
    finally:
        watcher.dispose()


def test_a_pooled_session_is_pinged_only_after_an_idle_spell(store_url, monkeypatch) -> None:
    """Taking a pooled connection costs no round trip while the pool is busy (a change
    takes several); one idle longer than PING_AFTER_IDLE_SECONDS is pinged first."""
    store = Store.from_url(store_url)
    try:
        with store.engine.connect() as conn:
            pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        with store.engine.connect() as conn:  # the same pooled session, taken again
            assert _last_statement(store_url, pid) == "ROLLBACK"  # its return to the pool
            assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() == pid
        monkeypatch.setattr(base, "PING_AFTER_IDLE_SECONDS", 0.0)
        with store.engine.connect():
            assert _last_statement(store_url, pid) == "SELECT 1"
    finally:
        store.engine.dispose()


def test_a_session_the_server_ended_is_replaced_before_anyone_uses_it(store_url) -> None:
    """A restart, a failover or an administrator ends the pooled sessions: the next
    write goes through on a new session instead of failing."""
    store = Store.from_url(store_url)
    admin = sa.create_engine(store_url)
    try:
        with store.engine.connect() as conn:
            pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        with admin.connect() as conn:
            assert conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
        wait_until(lambda: _last_statement(store_url, pid) is None)  # the session is gone
        assert store.claim_once("after-the-restart")
        assert not store.claim_once("after-the-restart")  # it was written
        with store.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() != pid
    finally:
        admin.dispose()
        store.engine.dispose()


def test_a_changes_writes_and_alert_check_are_one_round_trip_each(store_url) -> None:
    """Every points change claims its key, writes its intent, completes it and checks the
    alerts: each is one statement that commits on its own, with no BEGIN before it and no
    COMMIT or ROLLBACK after it (the session's last statement is the statement itself).
    A refused one (another change holds the fence) leaves the session usable."""
    store = Store.from_url(store_url)
    try:
        with store.engine.connect() as conn:
            pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()

        def last() -> str:
            return (_last_statement(store_url, pid) or "").split("(")[0].strip()

        assert store.claim_once("change-1")
        assert last() == "INSERT INTO once_keys"
        entry = store.record(
            user_id="U1",
            action=Action.POINTS_ADD,
            outcome=Outcome.PENDING,
            target_type="customer",
            target_id=7,
            before=10,
            fence="customer:7",
        )
        assert last() == "INSERT INTO audit_log"
        with pytest.raises(FenceTaken):
            store.record(
                user_id="U2", action=Action.POINTS_ADD, outcome=Outcome.PENDING, fence="customer:7"
            )
        assert store.complete(entry, Outcome.OK, after=15)
        assert last().startswith("UPDATE audit_log")
        since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        assert store.points_given_since(since, customer_id=7) == 5
        assert last().startswith("SELECT")
        with store.engine.connect() as conn:  # still the one session all along
            assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() == pid
        assert [(e.outcome, e.after) for e in store.entries(limit=None)] == [(Outcome.OK, 15)]
    finally:
        store.engine.dispose()


def test_web_workers_starting_at_once_keep_slacks_answer_once_without_an_error(
    store_url,
) -> None:
    """Two web workers keep the same token's auth.test answer at the same moment: the
    second's insert waits for the first's and then finds it there. It keeps quiet (an
    error here would be logged at every start of a deployment with several workers)."""
    first, second = Store.from_url(store_url), Store.from_url(store_url)
    answer = {"data": {"ok": True, "team_id": "T0LOYALTY"}, "scopes": None}
    row = {
        "token_digest": token_digest("xoxb-1"),
        "answer": json.dumps(answer),
        "learned_at": dt.datetime.now(dt.UTC),
    }
    with first.engine.connect() as conn, ThreadPoolExecutor(1) as pool:
        keeping = conn.begin()
        conn.execute(bot_identity.insert(), row)  # the first worker's, not committed yet
        racing = pool.submit(second.remember_identity, "xoxb-1", answer)
        with first.engine.connect() as watcher:
            wait_until(
                lambda: watcher.execute(
                    sa.text("SELECT count(*) FROM pg_locks WHERE NOT granted")
                ).scalar(),
                what="the second worker waiting for the first's insert",
            )
        keeping.commit()
        racing.result(timeout=30)  # no error
    assert second.identity("xoxb-1") == answer
    first.engine.dispose()
    second.engine.dispose()
