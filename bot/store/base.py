"""What every repository shares: the engine, the workspace its rows belong to, the schema's
version, and the decorator for writes a change depends on."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, Self, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.domain.errors import ConfigError, RecordUnavailable
from bot.store.liveness import has_news
from bot.store.migrate import current_revision, upgrade
from bot.store.schema import audit_log

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

# How long a write waits for another SQLite writer before the database counts as locked.
SQLITE_BUSY_SECONDS = 5.0
# A pooled server connection idle this long is pinged before it is used (see _alive).
PING_AFTER_IDLE_SECONDS = 30.0
# PostgreSQL URLs as platforms write them: Heroku's `postgres://`, which SQLAlchemy
# refuses, and `postgresql://`, which SQLAlchemy before 2.1 reads as psycopg2 (not
# installed). The bot's driver is psycopg 3.
_POSTGRES_SCHEMES = ("postgres://", "postgresql://")
_POSTGRES_DRIVER = "postgresql+psycopg://"


def engine_url(url: str) -> str:
    """`url` with the bot's PostgreSQL driver where it names none; any other as it is."""
    for scheme in _POSTGRES_SCHEMES:
        if url.startswith(scheme):
            return _POSTGRES_DRIVER + url.removeprefix(scheme)
    return url


_NOT_SUPPORTED = (
    "DATABASE_URL is not a database the bot can use ({what}): put a SQLite file "
    "(sqlite:///path/to/loyalty-bot.db) or a PostgreSQL server "
    "(postgresql://user:password@host/database) there."
)


def _supported(url: str) -> None:
    """ConfigError, naming DATABASE_URL, unless `url` is SQLite or PostgreSQL: the only
    databases whose locks keep out every other process (bot.store.locks)."""
    try:
        backend = sa.engine.make_url(url).get_backend_name()
    except sa.exc.ArgumentError:
        raise ConfigError(_NOT_SUPPORTED.format(what="not a database URL")) from None
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(_NOT_SUPPORTED.format(what=backend))


def recording(method: Callable[P, R]) -> Callable[P, R]:
    """A write a change depends on: if the database cannot take it, RecordUnavailable."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except SQLAlchemyError as exc:
            log.warning("the store could not record (%s): %s", type(exc).__name__, exc)
            raise RecordUnavailable() from exc

    return wrapper


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _write_ahead_log(dbapi_connection: Any, _record: Any) -> None:
    """SQLite in a file keeps a write-ahead log: readers never wait for a writer, and a
    write commits with one sync of the log instead of several of the journal and database
    (every commit is still synced: a recorded change survives a power cut)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _returned(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _alive(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """A pooled connection is taken several times for each change, so a ping each time
    (pool_pre_ping) cost the server and this process a round trip more than most queries.
    A session the server ended has said so on its socket (bot.store.liveness), which
    costs one poll to see; one idle longer than PING_AFTER_IDLE_SECONDS (a network that
    may have gone quiet) is pinged. A dead one is replaced before anyone uses it."""
    if has_news(dbapi_connection):
        raise sa.exc.DisconnectionError("the server ended the session")
    if time.monotonic() - record.info.get("idle_since", float("-inf")) < PING_AFTER_IDLE_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
    except Exception as exc:  # the driver's own error, whichever driver: unusable
        raise sa.exc.DisconnectionError(type(exc).__name__) from exc


class StoreBase:
    """The records of one workspace (`workspace`, in OAuth mode) or of the only one (None:
    a single-workspace deployment reads and writes every row, as before OAuth). Each
    aggregate's queries are a subclass in their own module; Store puts them together."""

    def __init__(self, engine: Engine, workspace: str | None = None) -> None:
        self.engine = engine
        self.workspace = workspace

    def for_workspace(self, team_id: str) -> Self:
        """The same database, seen as one workspace's records only."""
        return type(self)(self.engine, workspace=team_id)

    @property
    def _team(self) -> str:
        return self.workspace or ""

    def _mine(self, table: sa.Table) -> Any:
        """Rows of this workspace (every row when there is only one)."""
        return sa.true() if self.workspace is None else table.c.team_id == self.workspace

    @contextmanager
    def _one_statement(self) -> Iterator[sa.Connection]:
        """A connection for one statement that commits on its own. On a server, in
        autocommit: one round trip, where a transaction around it takes three (BEGIN, the
        statement, COMMIT or ROLLBACK); the statement is as atomic either way, and a
        failed one leaves nothing behind. On SQLite (no round trips), a transaction."""
        if self.engine.dialect.name == "sqlite":
            with self.engine.begin() as conn:
                yield conn
            return
        with self.engine.connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")

    def _once_key(self, key: str) -> str:
        return (key if self.workspace is None else f"{self.workspace}:{key}")[:200]

    @classmethod
    def from_url(cls, url: str) -> Self:
        url = engine_url(url)
        _supported(url)
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            # Listeners run on several threads; a write waits a little for another writer
            # (another process, say) and then fails, so a person is not kept waiting.
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS}
            if "mode=memory" in url:  # one database in memory (tests): one shared connection
                kwargs["poolclass"] = sa.pool.StaticPool
        else:
            # Short connections for reads and audit writes (locks keep a few of their own,
            # bot.store.locks). An unreachable server fails in seconds.
            kwargs.update(pool_size=30, max_overflow=20, pool_timeout=20)
            if url.startswith("postgresql"):
                kwargs["connect_args"] = {"connect_timeout": 5}
        try:
            engine = sa.create_engine(url, **kwargs)
        except ImportError as exc:  # a driver named in the URL that is not installed
            raise ConfigError(_NOT_SUPPORTED.format(what=f"needs {exc.name or exc}")) from None
        if url.startswith("sqlite") and "mode=memory" not in url and ":memory:" not in url:
            sa.event.listen(engine, "connect", _write_ahead_log)
        if not url.startswith("sqlite"):
            sa.event.listen(engine, "connect", _returned)
            sa.event.listen(engine, "checkin", _returned)
            sa.event.listen(engine, "checkout", _alive)
        store = cls(engine)
        store.migrate()
        return store

    def schema_version(self) -> str | None:
        """The Alembic revision the database is at."""
        return current_revision(self.engine)

    def migrate(self) -> str:
        """Upgrade the database to the latest revision (safe with several processes)."""
        return upgrade(self.engine)

    def reachable(self) -> bool:
        """Can the database be read, and a change be recorded, right now (for /healthz)?"""
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar()
                if self.engine.dialect.name == "sqlite":
                    # Readers never wait for a writer in a write-ahead log: ask for the
                    # write lock itself (another process may hold it), and let it go.
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                    conn.rollback()
            return True
        except SQLAlchemyError:
            return False

    def _insert_new(self, table: sa.Table, **values: Any) -> Any:
        """INSERT that does nothing when the row exists (SQLite and PostgreSQL alike)."""
        from sqlalchemy.dialects import postgresql, sqlite

        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(table).values(**values).on_conflict_do_nothing()
