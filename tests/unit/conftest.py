"""The unit layer runs in-process: a test here that starts a thread or a process, or opens
a socket, fails, naming what it did (such a test belongs in tests/integration). Its
databases are SQLite in memory, and the work the services start beside a request (an
index refresh, the summary's offers) runs inline."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.core import background
from bot.store.database import Store


def _refuse(what: str) -> Callable[..., Any]:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"a unit test {what}: move it to tests/integration")

    return refused


def _inline(work: Callable[[], object], name: str) -> None:
    work()


def _inline_beside(work: Callable[[], Any], name: str) -> Callable[[], Any]:
    try:
        result = work()
    except Exception as exc:
        error = exc

        def raises() -> Any:
            raise error

        return raises
    return lambda: result


@pytest.fixture(autouse=True)
def in_process_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(background, "start", _inline)
    monkeypatch.setattr(background, "beside", _inline_beside)
    monkeypatch.setattr(threading.Thread, "start", _refuse("started a thread"))
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("started a process"))
    monkeypatch.setattr(socket.socket, "connect", _refuse("opened a connection"))
    monkeypatch.setattr(socket.socket, "bind", _refuse("listened on a socket"))


def _memory_url(name: str) -> str:
    return f"sqlite:///file:{name}?mode=memory&cache=shared&uri=true"


@pytest.fixture(scope="session")
def migrated_memory() -> Iterator[sqlite3.Connection]:
    """A bot database in memory at the latest revision, made once."""
    name = f"template-{uuid.uuid4().hex}"
    keep = sqlite3.connect(f"file:{name}?mode=memory&cache=shared", uri=True)
    Store.from_url(_memory_url(name)).engine.dispose()
    yield keep
    keep.close()


@pytest.fixture
def sqlite_url(migrated_memory: sqlite3.Connection) -> Iterator[str]:
    """A fresh, empty bot database of this test's own, in memory (a copy of the migrated
    one: it lives while this test holds a connection to it)."""
    name = f"test-{uuid.uuid4().hex}"
    keep = sqlite3.connect(f"file:{name}?mode=memory&cache=shared", uri=True)
    migrated_memory.backup(keep)
    yield _memory_url(name)
    keep.close()


@pytest.fixture
def store_url() -> Iterator[str]:
    """A fresh, empty database, in memory (tests/integration/test_store_postgres.py runs the
    same tests on PostgreSQL)."""
    name = f"empty-{uuid.uuid4().hex}"
    keep = sqlite3.connect(f"file:{name}?mode=memory&cache=shared", uri=True)
    yield _memory_url(name)
    keep.close()
