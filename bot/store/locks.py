"""One change at a time per record, across threads and processes.

A change holds its record's lock around read, check, write and record, so two changes to
one customer's points never interleave. The lock is also the lease of a pending audit
entry: whoever can take a record's lock knows no live process is changing it.

- PostgreSQL: a transaction-scoped advisory lock on a connection held for the change;
  the server releases it if the process dies. Lock connections come from a pool of their
  own, so changes holding locks never starve the short connections of their audit writes.
- SQLite in a file: `flock` on one of 256 lock files beside the database (a few records
  share a file; that only serialises them); the OS releases it if the process dies.
- SQLite in memory (one process by definition), or no `fcntl`: thread locks.

Within a process, waiters queue on a thread lock first, so only one of them at a time
holds a database connection or polls a file.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from bot.core.errors import Busy, RecordUnavailable
from bot.core.say import Say

try:
    import fcntl
except ImportError:  # Windows: a single process, thread locks are enough
    fcntl = None  # type: ignore[assignment]

# Long enough for a change in flight (a 10 s API call and its check) to finish.
LOCK_WAIT_SECONDS = 30.0
_BUCKETS = 256


class ChangeLocks:
    """Thread locks: the base of every kind, and enough for a single process."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def _thread_lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(self._bucket_of(key), threading.Lock())

    def _bucket_of(self, key: str) -> str:
        return key

    def close(self) -> None:
        """Release what the locks keep open (a database pool)."""

    @contextmanager
    def hold(
        self, key: str, what: str | Say = "this record", *, wait: float = LOCK_WAIT_SECONDS
    ) -> Iterator[None]:
        """Hold `key` for the block; Busy if it cannot be had within `wait` seconds."""
        deadline = time.monotonic() + wait
        lock = self._thread_lock(key)
        if not lock.acquire(timeout=wait):
            raise Busy(what)
        try:
            with self._hold_across_processes(key, what, deadline, blocking=True) as held:
                assert held
                yield
        finally:
            lock.release()

    @contextmanager
    def try_hold(self, key: str) -> Iterator[bool]:
        """Hold `key` if nobody does right now: yields True, else False at once."""
        lock = self._thread_lock(key)
        if not lock.acquire(blocking=False):
            yield False
            return
        try:
            with self._hold_across_processes(key, "", time.monotonic(), blocking=False) as held:
                yield held
        finally:
            lock.release()

    @contextmanager
    def _hold_across_processes(
        self, key: str, what: str | Say, deadline: float, *, blocking: bool
    ) -> Iterator[bool]:
        yield True


class ScopedLocks(ChangeLocks):
    """One workspace's view of the locks: its keys cannot meet another workspace's (two
    programs may have a customer with the same id)."""

    def __init__(self, inner: ChangeLocks, scope: str) -> None:
        self._inner, self._scope = inner, scope

    def hold(
        self, key: str, what: str | Say = "this record", *, wait: float = LOCK_WAIT_SECONDS
    ) -> Any:
        return self._inner.hold(f"{self._scope}:{key}", what, wait=wait)

    def try_hold(self, key: str) -> Any:
        return self._inner.try_hold(f"{self._scope}:{key}")


class FileLocks(ChangeLocks):
    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def _bucket_of(self, key: str) -> str:
        digest = hashlib.blake2b(key.encode(), digest_size=2).digest()
        return f"{int.from_bytes(digest) % _BUCKETS:03d}"

    @contextmanager
    def _hold_across_processes(
        self, key: str, what: str | Say, deadline: float, *, blocking: bool
    ) -> Iterator[bool]:
        path = self.directory / f"{self._bucket_of(key)}.lock"
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            raise RecordUnavailable() from None
        try:
            held = _flock(fd, deadline if blocking else None)
            if held is None:
                raise Busy(what)
            try:
                yield held
            finally:
                if held:
                    fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


class PostgresLocks(ChangeLocks):
    MAX_HELD = 50  # changes in flight per process holding a lock; more wait for a turn

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = sa.create_engine(
            engine.url,
            pool_size=5,
            max_overflow=self.MAX_HELD - 5,
            pool_timeout=LOCK_WAIT_SECONDS,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 5},
        )

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _hold_across_processes(
        self, key: str, what: str | Say, deadline: float, *, blocking: bool
    ) -> Iterator[bool]:
        number = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), signed=True)
        try:
            conn = self.engine.connect()
        except SQLAlchemyError:
            raise RecordUnavailable() from None
        try:
            try:
                transaction = conn.begin()
                if blocking:
                    wait_ms = max(1, int((deadline - time.monotonic()) * 1000))
                    conn.execute(sa.text(f"SET LOCAL lock_timeout = {wait_ms}"))
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": number})
                    held = True
                else:
                    held = bool(
                        conn.execute(
                            sa.text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": number}
                        ).scalar()
                    )
            except OperationalError as exc:
                if getattr(exc.orig, "sqlstate", "") == "55P03":  # lock_not_available
                    raise Busy(what) from None
                raise RecordUnavailable() from None
            except SQLAlchemyError:
                raise RecordUnavailable() from None
            try:
                yield held
            finally:
                # Ending the transaction releases the lock; if the connection is gone, the
                # server released it already.
                with suppress(SQLAlchemyError):
                    transaction.rollback()
        finally:
            conn.close()


def _flock(fd: int, deadline: float | None) -> bool | None:
    """Take the file lock: True; False at once without a deadline; None when it passes."""
    pause = 0.001
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass  # another process holds it
        if deadline is None:
            return False
        if time.monotonic() + pause > deadline:
            return None
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def locks_for(engine: Engine) -> ChangeLocks:
    """The kind of lock that excludes every process that can share this database."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        return PostgresLocks(engine)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and fcntl is not None:
            return FileLocks(Path(database).resolve().parent / (Path(database).name + ".locks"))
    return ChangeLocks()
