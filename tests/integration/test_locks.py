"""Per-record locks: they exclude threads and processes, time out as Busy, and die with
the process that held them (so a pending entry's lease ends with its process)."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa

from bot.domain.errors import Busy, RecordUnavailable
from bot.store.locks import ChangeLocks, FileLocks, PostgresLocks, _number, locks_for
from tests.conftest import fresh_postgres
from tests.faults import end_lock_sessions


@pytest.fixture(params=["threads", "files", "postgresql"])
def locks(request, tmp_path):
    if request.param == "threads":
        made: ChangeLocks = ChangeLocks()
    elif request.param == "files":
        made = FileLocks(tmp_path / "locks")
    else:
        made = PostgresLocks(sa.create_engine(fresh_postgres()))
    yield made
    made.close()


def test_a_held_key_waits_others_and_times_out_as_busy(locks) -> None:
    with locks.hold("customer:1"):
        with locks.try_hold("customer:1") as free:
            assert free is None
        with locks.try_hold("customer:2") as free:
            assert free is not None  # other records are not held
        errors: list[Exception] = []

        def other() -> None:
            try:
                with locks.hold("customer:1", "Juan's points", wait=0.2):
                    pass
            except Busy as exc:
                errors.append(exc)

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert len(errors) == 1 and "Another change to Juan's points" in errors[0].message
    with locks.try_hold("customer:1") as free:
        assert free is not None


def test_holders_take_turns(locks) -> None:
    inside, overlaps = [], []

    def change() -> None:
        with locks.hold("customer:1"):
            inside.append(1)
            overlaps.append(len(inside))
            inside.pop()

    threads = [threading.Thread(target=change) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == [1] * 20


_HOLD_IN_A_CHILD = """
import sys
import sqlalchemy as sa
from pathlib import Path
from bot.store.locks import FileLocks, PostgresLocks
kind, where = sys.argv[1], sys.argv[2]
locks = FileLocks(Path(where)) if kind == "files" else PostgresLocks(sa.create_engine(where))
with locks.hold("customer:1"):
    print("held", flush=True)
    sys.stdin.read()
"""


@pytest.mark.parametrize("kind", ["files", "postgresql"])
def test_another_process_is_excluded_until_it_dies(kind, tmp_path) -> None:
    where = str(tmp_path / "locks") if kind == "files" else fresh_postgres()
    mine = (
        FileLocks(tmp_path / "locks") if kind == "files" else PostgresLocks(sa.create_engine(where))
    )
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLD_IN_A_CHILD, kind, where],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    with mine.try_hold("customer:1") as free:
        assert free is None
    child.kill()  # kill -9: the OS or the server releases what it held
    child.wait(10)
    with mine.hold("customer:1", wait=10):
        pass
    mine.close()


def test_the_kind_follows_the_database(tmp_path) -> None:
    assert isinstance(locks_for(sa.create_engine(f"sqlite:///{tmp_path / 'a.db'}")), FileLocks)
    assert type(locks_for(sa.create_engine("sqlite://"))) is ChangeLocks
    assert isinstance(locks_for(sa.create_engine("postgresql+psycopg://x@h/db")), PostgresLocks)


def test_two_file_locks_on_one_database_in_one_process_exclude_each_other(tmp_path) -> None:
    """Record locks belong to the process: two FileLocks on one file must share their
    thread locks (a migration's and the app's, say), and closing one keeps the other's."""
    first, second = FileLocks(tmp_path / "locks"), FileLocks(tmp_path / "locks")
    try:
        with first.hold("customer:1"):
            with second.try_hold("customer:1") as free:
                assert free is None
            with second.try_hold("customer:2") as free:
                assert free is not None
        third = FileLocks(tmp_path / "locks")
        with first.hold("customer:3"):
            third.close()  # must not release what `first` holds
            with second.try_hold("customer:3") as free:
                assert free is None
    finally:
        first.close()
        second.close()


def test_a_postgres_holder_learns_its_session_was_ended_and_others_keep_theirs() -> None:
    """An administrator ends the session holding a lock: its holder's `lost()` says so
    (no round trip while nothing arrived on the session); a query that merely fails
    leaves the session, and every other lock on it, held."""
    url = fresh_postgres()
    locks = PostgresLocks(sa.create_engine(url))
    try:
        with locks.hold("customer:1") as first, locks.hold("customer:2") as second:
            assert not first.lost() and not second.lost()
            session = locks._session(_number("customer:1"))
            with session.lock, pytest.raises(RecordUnavailable):
                locks._ask(session, "SELECT no_such_function()")  # fails, session alive
            assert not first.lost()
            ended = end_lock_sessions(url)
            assert ended >= 1
            assert (
                first.lost() and second.lost() == (locks._session(_number("customer:2")) is session)
            ) or second.lost()
        with locks.hold("customer:1") as again:  # a new session takes it again
            assert not again.lost()
    finally:
        locks.close()
