"""The store under concurrency: first starts migrating at once, claims won once."""

from __future__ import annotations

import subprocess
import sys
import threading

from bot.store.database import Store
from bot.store.migrate import head


def test_concurrent_first_starts_migrate_once(store_url: str) -> None:
    errors: list[Exception] = []

    def start() -> None:
        try:
            Store.from_url(store_url)
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Store.from_url(store_url).schema_version() == head()


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


def test_a_clerks_daily_total_is_reserved_atomically(store_url: str) -> None:
    """Twenty reservations of 10 at once against a total of 55: exactly five fit."""
    store = Store.from_url(store_url)
    results: list[bool] = []
    barrier = threading.Barrier(20)

    def reserve() -> None:
        barrier.wait()
        results.append(store.reserve_clerk_points("UCLERK", "2026-11-26", 10, 55))

    threads = [threading.Thread(target=reserve) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 5
    assert store.clerk_points_on("UCLERK", "2026-11-26") == 50
    store.release_clerk_points("UCLERK", "2026-11-26", 70)  # never below zero
    assert store.clerk_points_on("UCLERK", "2026-11-26") == 0
    assert store.clerk_points_on("UCLERK", "2026-11-27") == 0


def test_a_serving_process_at_head_loads_neither_alembic_nor_cryptography(
    store_url: str,
) -> None:
    """Memory (bench_memory): once the database is at the latest revision, a start reads
    it with one query; one workspace's bot never seals a secret, nor keeps Slack's
    installations (slack_sdk's stores, and with them SQLAlchemy's ORM)."""
    Store.from_url(store_url)  # migrated, as by the first start
    started = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, bot.runtime.wsgi\n"
            "from bot.store.database import Store\n"
            f"store = Store.from_url({store_url!r})\n"
            "print(store.schema_version(), 'alembic' in sys.modules, 'cryptography' in sys.modules,"
            " 'sqlalchemy.orm' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert started.stdout.split() == [head(), "False", "False", "False"]
