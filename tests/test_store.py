"""The audit store on SQLite and (when available) PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import sqlalchemy as sa

from bot.store import MIGRATIONS, Store, schema_version


def test_migrations_versioned_and_idempotent(store_url: str) -> None:
    store = Store.from_url(store_url)
    assert store.schema_version() == len(MIGRATIONS)
    Store.from_url(store_url).migrate()  # a second start changes nothing
    with store.engine.connect() as conn:
        versions = conn.execute(sa.select(schema_version.c.version)).scalars().all()
    assert sorted(versions) == list(range(1, len(MIGRATIONS) + 1))


def test_concurrent_first_starts_migrate_once(store_url: str) -> None:
    errors: list[Exception] = []

    def start() -> None:
        try:
            Store.from_url(store_url)
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Store.from_url(store_url).schema_version() == len(MIGRATIONS)


def test_record_and_query_entries(store_url: str) -> None:
    store = Store.from_url(store_url)
    t0 = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
    big = 6629146321223680
    store.record(
        user_id="U1",
        action="points.add",
        outcome="ok",
        target_type="customer",
        target_id=big,
        target_name="Ana",
        before=1,
        after=11,
        reason="r",
        at=t0,
    )
    store.record(
        user_id="U2",
        action="points.deduct",
        outcome="failed",
        target_type="customer",
        target_id=big,
        target_name="Ana",
        before=11,
        at=t0 + dt.timedelta(minutes=1),
    )
    store.record(user_id="U1", action="refused", outcome="refused", at=t0 + dt.timedelta(minutes=2))
    newest_first = store.entries(target_id=big)
    assert [e.action for e in newest_first] == ["points.deduct", "points.add"]
    assert newest_first[1].at == t0 and newest_first[1].target_id == big
    assert [e.action for e in store.entries(user_id="U1", outcome="ok")] == ["points.add"]
    assert len(store.entries(since=t0 + dt.timedelta(seconds=30))) == 2


def test_claim_undo_is_won_once_under_concurrency(store_url: str) -> None:
    store = Store.from_url(store_url)
    entry = store.record(user_id="U1", action="points.add", outcome="ok", before=0, after=5)
    wins: list[bool] = []
    barrier = threading.Barrier(6)

    def claim() -> None:
        barrier.wait()
        wins.append(store.claim_undo(entry))

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1
    store.release_undo(entry)
    assert store.claim_undo(entry) is True
