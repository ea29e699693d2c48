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
"""

from __future__ import annotations

import errno
import hashlib
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

from bot.core.errors import Busy, RecordUnavailable
from bot.core.say import Say

try:
    import fcntl
except ImportError:  # Windows: a single process, thread locks are enough
    fcntl = None  # type: ignore[assignment]

# Long enough for a change in flight (a 10 s API call and its check) to finish.
LOCK_WAIT_SECONDS = 30.0


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
        self, key: str, what: str | Say, deadline: float, *, blocking: bool
    ) -> Iterator[bool]:
        fd, offset = self._file(), _offset(key)
        held = _poll(lambda: _lock_byte(fd, offset), deadline if blocking else None)
        if held is None:
            raise Busy(what)
        try:
            yield held
        finally:
            if held:
                fcntl.lockf(fd, fcntl.LOCK_UN, 1, offset)


class _Session:
    """One connection of the process's own that takes and releases advisory locks."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.connection: sa.Connection | None = None

    def drop(self) -> None:
        if self.connection is not None:
            with suppress(SQLAlchemyError):
                self.connection.close()
        self.connection = None


class PostgresLocks(ChangeLocks):
    """Session advisory locks, taken and released on a few connections of the process's
    own (a key always on the same one): a held lock costs no connection, so hundreds of
    changes can be in flight at once. The server releases a session's locks when the
    process dies or its connection drops. The thread lock per key (the base class) comes
    first: a session would let two of this process's threads take the same lock."""

    SESSIONS = 4

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = sa.create_engine(
            engine.url, poolclass=NullPool, connect_args={"connect_timeout": 5}
        )
        self._sessions = [_Session() for _ in range(self.SESSIONS)]

    def _bucket_of(self, key: str) -> str:
        return str(_number(key))

    def close(self) -> None:
        for session in self._sessions:
            with session.lock:
                session.drop()
        self.engine.dispose()

    def _ask(self, query: str, number: int) -> bool:
        session = self._sessions[number % self.SESSIONS]
        with session.lock:
            try:
                if session.connection is None:
                    session.connection = self.engine.connect().execution_options(
                        isolation_level="AUTOCOMMIT"
                    )
                return bool(session.connection.execute(sa.text(query), {"k": number}).scalar())
            except SQLAlchemyError:
                session.drop()  # its locks are gone with it: the next asks anew
                raise RecordUnavailable() from None

    @contextmanager
    def _hold_across_processes(
        self, key: str, what: str | Say, deadline: float, *, blocking: bool
    ) -> Iterator[bool]:
        number = _number(key)
        held = _poll(
            lambda: self._ask("SELECT pg_try_advisory_lock(:k)", number),
            deadline if blocking else None,
        )
        if held is None:
            raise Busy(what)
        try:
            yield held
        finally:
            if held:
                with suppress(RecordUnavailable):  # a lost session released it already
                    self._ask("SELECT pg_advisory_unlock(:k)", number)


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
        if database and database != ":memory:" and fcntl is not None:
            return FileLocks(Path(database).resolve().parent / (Path(database).name + ".locks"))
    return ChangeLocks()
