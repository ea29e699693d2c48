"""One change at a time per record, across threads and processes.

A change holds its record's lock around read, check, write and record, so two changes to
one customer's points never interleave. The lock is also the lease of a pending audit
entry: whoever can take a record's lock knows no live process is changing it.

- PostgreSQL: a session advisory lock per record, taken and released on one of a few
  connections the process keeps for its locks (a held lock costs no connection; the
  server releases them if the process dies or the connection drops).
- SQLite in a file: a POSIX record lock on one byte of a file beside the database, at an
  offset from the record's key (records practically never share one); the OS releases it
  if the process dies.
- SQLite in memory (one process by definition), or no `fcntl`: thread locks.

Within a process, waiters queue on a thread lock first, so only one of them at a time
asks the database or polls the file; another process's hold is polled for, with a short
growing pause.

A lock can be lost while it is held: a PostgreSQL session ended by an administrator, a
failover or a cut connection releases every lock it held, and another process may then
take them. `hold` yields a `Held` whose `lost()` a holder asks before it sends a change
and before it completes one (bot.core.ledger); a lost lock makes the change unknown, then
checked. What survives a lost lock, and a dead process, is the change's fence (its
pending audit entry), not the lock.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from bot.domain.errors import Busy, RecordUnavailable
from bot.domain.say import Say
from bot.store.liveness import has_news

try:
    import fcntl
except ImportError:  # Windows: a single process, thread locks are enough
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

# Long enough for a change in flight (a 10 s API call and its check) to finish.
LOCK_WAIT_SECONDS = 30.0


class Held:
    """A lock as its holder has it. Thread and file locks die only with their process.

    `fenced`: whether a change in flight held the record's fence when the lock was taken,
    if the lock could see it in the same round trip (PostgreSQL); None: not looked at."""

    fenced: bool | None = None

    def lost(self) -> bool:
        """Has the lock been taken away since it was granted (its session ended)?"""
        return False


HELD = Held()


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
        self,
        key: str,
        what: str | Say = "this record",
        *,
        wait: float = LOCK_WAIT_SECONDS,
        fence: str | None = None,
    ) -> Iterator[Held]:
        """Hold `key` for the block; Busy if it cannot be had within `wait` seconds.
        `fence`: the record's fence, looked at while taking the lock where that costs no
        round trip of its own (`Held.fenced`)."""
        deadline = time.monotonic() + wait
        lock = self._thread_lock(key)
        if not lock.acquire(timeout=wait):
            raise Busy(what)
        try:
            with self._hold_across_processes(
                key, what, deadline, blocking=True, fence=fence
            ) as held:
                assert held is not None
                yield held
        finally:
            lock.release()

    @contextmanager
    def try_hold(self, key: str) -> Iterator[Held | None]:
        """Hold `key` if nobody does right now: yields the hold, else None at once."""
        lock = self._thread_lock(key)
        if not lock.acquire(blocking=False):
            yield None
            return
        try:
            with self._hold_across_processes(key, "", time.monotonic(), blocking=False) as held:
                yield held
        finally:
            lock.release()

    @contextmanager
    def _hold_across_processes(
        self,
        key: str,
        what: str | Say,
        deadline: float,
        *,
        blocking: bool,
        fence: str | None = None,
    ) -> Iterator[Held | None]:
        yield HELD


class _LockFile:
    """A lock file as this process uses it: one descriptor, kept open, and the thread lock
    per offset. Record locks belong to the process, so every FileLocks on the same file
    must share these (closing any descriptor of the file would release every lock the
    process holds on it, and two threads of one process never exclude each other there)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None
        self.users = 0
        self.guard = threading.Lock()
        self.locks: dict[str, threading.Lock] = {}


_LOCK_FILES: dict[Path, _LockFile] = {}
_LOCK_FILES_GUARD = threading.Lock()


class FileLocks(ChangeLocks):
    """POSIX record locks on one file beside the database: a record's key locks one byte,
    at an offset from a 62-bit hash of the key, so two records practically never share a
    lock (a busy shop changes hundreds of customers at once, each held for its API calls).
    The thread lock per offset comes first (`_LockFile`)."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        path = (directory / "records.lock").resolve()
        with _LOCK_FILES_GUARD:
            self._shared = _LOCK_FILES.setdefault(path, _LockFile(path))
            self._shared.users += 1
        self._closed = False

    def _thread_lock(self, key: str) -> threading.Lock:
        shared = self._shared
        with shared.guard:
            return shared.locks.setdefault(self._bucket_of(key), threading.Lock())

    def _bucket_of(self, key: str) -> str:
        return str(_offset(key))

    def _file(self) -> int:
        shared = self._shared
        with shared.guard:
            if shared.fd is None:
                try:
                    shared.fd = os.open(shared.path, os.O_RDWR | os.O_CREAT, 0o600)
                except OSError:
                    raise RecordUnavailable() from None
            return shared.fd

    def close(self) -> None:
        """Done with the locks; the file is closed when this process's last user is."""
        with _LOCK_FILES_GUARD:
            if self._closed:
                return
            self._closed = True
            shared = self._shared
            shared.users -= 1
            if shared.users == 0:
                _LOCK_FILES.pop(shared.path, None)
                if shared.fd is not None:
                    os.close(shared.fd)
                    shared.fd = None

    @contextmanager
    def _hold_across_processes(
        self,
        key: str,
        what: str | Say,
        deadline: float,
        *,
        blocking: bool,
        fence: str | None = None,
    ) -> Iterator[Held | None]:
        fd, offset = self._file(), _offset(key)
        held = _poll(lambda: _lock_byte(fd, offset), deadline if blocking else None)
        if held is None:
            raise Busy(what)
        try:
            yield HELD if held else None
        finally:
            if held:
                fcntl.lockf(fd, fcntl.LOCK_UN, 1, offset)


class _Session:
    """One connection of the process's own that takes and releases advisory locks (the
    driver's connection, in autocommit: a lock is two short queries, and SQLAlchemy's
    statement machinery would double their CPU). Its `generation` grows each time the
    connection is lost (and with it every lock it held)."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.lock = threading.Lock()
        self.connection: Any = None  # SQLAlchemy's handle on the driver's connection
        self.generation = 0
        self.holders = 0  # locks held on it now

    def drop(self, why: str) -> None:
        """The connection is gone, and the server released its locks with it."""
        if self.connection is not None:
            with suppress(Exception):  # closing what may already be broken
                self.connection.invalidate()
            self.generation += 1
            if self.holders:
                log.warning(
                    "lock session %d was lost (%s): the %d change(s) holding locks on it will "
                    "find out before they send or complete, and are then checked",
                    self.number,
                    why,
                    self.holders,
                )
        self.connection = None


class _PostgresHeld(Held):
    def __init__(
        self, locks: PostgresLocks, session: _Session, generation: int, fenced: bool | None
    ) -> None:
        self.locks, self.session, self.generation, self.fenced = locks, session, generation, fenced

    def lost(self) -> bool:
        return not self.locks._still_holds(self.session, self.generation)


class PostgresLocks(ChangeLocks):
    """Session advisory locks, taken and released on a few connections of the process's
    own (a key always on the same one): a held lock costs no connection, so hundreds of
    changes can be in flight at once. The server releases a session's locks when the
    process dies or its connection drops; the holders then learn it from `Held.lost`. The
    thread lock per key (the base class) comes first: a session would let two of this
    process's threads take the same lock."""

    SESSIONS = 4

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = sa.create_engine(
            engine.url, poolclass=NullPool, connect_args={"connect_timeout": 5}
        )
        self._sessions = [_Session(n) for n in range(self.SESSIONS)]
        self._driver_error: type[Exception] = self.engine.dialect.loaded_dbapi.Error

    def _bucket_of(self, key: str) -> str:
        return str(_number(key))

    def close(self) -> None:
        for session in self._sessions:
            with session.lock:
                session.drop("closed")
        self.engine.dispose()

    def _session(self, number: int) -> _Session:
        return self._sessions[number % self.SESSIONS]

    def _ask(self, session: _Session, query: str, **values: Any) -> Any:
        """One query on the session (the caller holds `session.lock`): its first row. A
        failed query leaves the session, and every other lock on it, as it was unless its
        connection is gone: then it is dropped (its locks went with it) and said so."""
        try:
            if session.connection is None:
                session.connection = self.engine.raw_connection()
                session.connection.driver_connection.autocommit = True
            row = _first_row(session.connection, query, values)
        except (SQLAlchemyError, self._driver_error) as exc:
            if not self._alive(session):
                session.drop(type(exc).__name__)
            raise RecordUnavailable() from None
        return row

    def _alive(self, session: _Session) -> bool:
        connection = session.connection
        if connection is None or connection.driver_connection is None:
            return False
        try:
            _first_row(connection, _ALIVE, {})
            return True
        except self._driver_error:
            return False

    def _still_holds(self, session: _Session, generation: int) -> bool:
        """Is the session that took the lock alive now? Its locks go only with it (this
        process releases its own). A server that ends a session says so on its connection
        (an error message, then the connection closes), as does a connection cut on the
        way: either makes its socket readable. An idle session whose socket has nothing
        to read is as it was, with no round trip; anything there is asked about."""
        with session.lock:
            if session.generation != generation or session.connection is None:
                return False
            if not _has_news(session.connection):
                return True
            try:
                self._ask(session, _ALIVE)
            except RecordUnavailable:
                return False
            return session.generation == generation

    @contextmanager
    def _hold_across_processes(
        self,
        key: str,
        what: str | Say,
        deadline: float,
        *,
        blocking: bool,
        fence: str | None = None,
    ) -> Iterator[Held | None]:
        number = _number(key)
        session = self._session(number)
        generation, fenced = 0, None

        def take() -> bool:
            nonlocal generation, fenced
            with session.lock:
                if fence is None:
                    (taken,) = self._ask(session, _TAKE, k=number)
                else:  # the fence looked at in the same round trip
                    taken, fenced = self._ask(session, _TAKE_AND_LOOK, k=number, fence=fence)
                if taken:
                    generation = session.generation
                    session.holders += 1
                return bool(taken)

        held = _poll(take, deadline if blocking else None)
        if held is None:
            raise Busy(what)
        try:
            yield _PostgresHeld(self, session, generation, fenced) if held else None
        finally:
            if held:
                with session.lock:
                    session.holders -= 1
                    if session.generation == generation:
                        with suppress(RecordUnavailable):  # a lost session released it
                            self._ask(session, _RELEASE, k=number)


def _first_row(connection: Any, query: str, values: dict[str, Any]) -> Any:
    with connection.driver_connection.cursor() as cursor:
        cursor.execute(query, values)
        return cursor.fetchone()


def _has_news(connection: Any) -> bool:
    """Has anything arrived on this idle connection (so it may have been ended)?"""
    return has_news(connection.driver_connection)


# Each change takes and releases a lock: the driver's own SQL (both PostgreSQL drivers
# take the pyformat style), which it prepares after a few uses.
_ALIVE = "SELECT 1"
_TAKE = "SELECT pg_try_advisory_lock(%(k)s)"
_RELEASE = "SELECT pg_advisory_unlock(%(k)s)"
# The lock, and whether a change in flight holds the record's fence (audit_log.fence).
_TAKE_AND_LOOK = (
    "SELECT pg_try_advisory_lock(%(k)s), EXISTS (SELECT 1 FROM audit_log WHERE fence = %(fence)s)"
)


def _offset(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest()) >> 2


def _number(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), signed=True)


def _lock_byte(fd: int, offset: int) -> bool:
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, offset)
        return True
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EAGAIN):
            return False  # another process holds it
        raise RecordUnavailable() from None


def _poll(take: Callable[[], bool], deadline: float | None) -> bool | None:
    """`take()` until it succeeds: True; False at once without a deadline; None when the
    deadline passes first. Another process's hold is short (a change's API calls), so a
    short, growing pause between tries."""
    pause = 0.001
    while True:
        if take():
            return True
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
        in_memory = database == ":memory:" or url.query.get("mode") == "memory"
        if database and not in_memory and fcntl is not None:
            return FileLocks(Path(database).resolve().parent / (Path(database).name + ".locks"))
    return ChangeLocks()
