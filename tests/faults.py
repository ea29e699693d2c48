"""What tests break on purpose: the bot's database (read-only, locked by another process,
unreachable behind a proxy that is cut) and the timing of a Loyalty API route (a gate)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.offline.sandbox import SandboxApp


def make_read_only(engine: Engine) -> None:
    """Every connection of a SQLite engine refuses writes from now on."""

    @sa.event.listens_for(engine, "connect")
    def query_only(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA query_only = ON")

    engine.dispose()


@contextlib.contextmanager
def read_only(engine: Engine) -> Iterator[None]:
    """Every connection of a SQLite engine refuses writes until the block ends."""

    def query_only(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA query_only = ON")

    sa.event.listen(engine, "connect", query_only)
    engine.dispose()
    try:
        yield
    finally:
        sa.event.remove(engine, "connect", query_only)
        engine.dispose()


@contextlib.contextmanager
def sqlite_locked_by_another_process(path: str) -> Iterator[None]:
    """Another process holds an exclusive lock on the SQLite file until the block ends."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n",
            path,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)


class TcpProxy:
    """A loopback TCP proxy to a server (PostgreSQL) that a test can cut and restore."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = True
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets |= {client, server}
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        for s in (source, target):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Every connection through it dies, and new ones are refused, until `restore`."""
        self.open = False
        with self._lock:
            for s in self._sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
            self._sockets.clear()

    def restore(self) -> None:
        self.open = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


class Gate:
    """Holds requests to one sandbox route until released; `entered` is set when one
    arrives. (Inject a fault before releasing to decide how the request then ends.)"""

    def __init__(self, sandbox: SandboxApp, method: str, path_end: str) -> None:
        self.entered = threading.Event()
        self.released = threading.Event()
        previous = sandbox.before

        def hold(m: str, path: str) -> None:
            if m == method and path.endswith(path_end):
                self.entered.set()
                self.released.wait(60)
            if previous is not None:
                previous(m, path)

        sandbox.before = hold

    def release(self) -> None:
        self.released.set()


@contextlib.contextmanager
def behind_proxy(url: str) -> Iterator[tuple[TcpProxy, str]]:
    """A proxy in front of the PostgreSQL server of `url`, and `url` through it."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    netloc = parts.netloc.rsplit("@", 1)[0] + f"@127.0.0.1:{proxy.port}"
    try:
        yield proxy, urlunsplit(parts._replace(netloc=netloc))
    finally:
        proxy.close()


def end_lock_sessions(url: str) -> int:
    """End every PostgreSQL session holding an advisory lock, as a failover, a pooler
    restart or an administrator (pg_terminate_backend) would: how many were ended."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            ended = conn.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"
                )
            ).scalar()
    finally:
        engine.dispose()
    return int(ended or 0)
