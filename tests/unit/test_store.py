"""The audit store on SQLite and (when available) PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bot.domain.errors import ConfigError
from bot.store.base import engine_url
from bot.store.database import Store
from bot.store.installations import metadata  # the bot's tables and slack_sdk's
from bot.store.migrate import LATEST, head

# The old migration runner's bookkeeping (before Alembic), to make databases as it did.
schema_version = sa.Table(
    "schema_version",
    sa.MetaData(),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)


def test_the_latest_revision_declared_is_alembics_head() -> None:
    assert head() == LATEST  # a new migration sets LATEST too


@pytest.mark.parametrize(
    ("given", "used"),
    [
        (
            "postgres://app:p%40ss@db.example:5432/shop",
            "postgresql+psycopg://app:p%40ss@db.example:5432/shop",
        ),
        (
            "postgresql://app@db.example/shop?sslmode=require",
            "postgresql+psycopg://app@db.example/shop?sslmode=require",
        ),
        ("postgresql+psycopg://app@db.example/shop", "postgresql+psycopg://app@db.example/shop"),
        ("postgresql+psycopg2://app@db.example/shop", "postgresql+psycopg2://app@db.example/shop"),
        ("sqlite:///loyalty-bot.db", "sqlite:///loyalty-bot.db"),
    ],
)
def test_a_postgresql_url_as_platforms_write_it_gets_the_bots_driver(given, used) -> None:
    """Heroku's `postgres://` (which SQLAlchemy refuses) and a bare `postgresql://` (which
    SQLAlchemy before 2.1 reads as psycopg2, not installed) use psycopg 3; a URL naming a
    driver keeps it."""
    assert engine_url(given) == used


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("postgresql+psycopg2://app@db.example/shop", "needs psycopg2"),  # not installed
        ("mysql://app@db.example/shop", "mysql"),  # its locks would not keep others out
        ("loyalty-bot.db", "not a database URL"),
    ],
)
def test_a_database_the_bot_cannot_use_is_a_setting_to_fix(url: str, why: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Store.from_url(url)
    assert refused.value.message.startswith(
        f"DATABASE_URL is not a database the bot can use ({why}): put a SQLite file"
    )


def test_a_fresh_database_is_migrated_to_head_once(store_url: str) -> None:
    store = Store.from_url(store_url)
    assert store.schema_version() == head()
    Store.from_url(store_url).migrate()  # a second start changes nothing
    assert store.schema_version() == head()


def test_the_migrations_make_exactly_the_tables_the_code_uses(store_url: str) -> None:
    store = Store.from_url(store_url)
    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


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


@pytest.mark.parametrize("old_version", [4, 5])
def test_a_database_made_by_the_old_runner_is_upgraded_in_place(
    store_url: str, old_version: int
) -> None:
    """Made by the code before Alembic: at v4 the audit log had no requested, changes or
    resolved columns and there were no one-time keys; v5 added them."""
    old = sa.MetaData()
    columns = [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target_type", sa.String(20), nullable=False),
        sa.Column("target_id", sa.BigInteger),
        sa.Column("target_name", sa.String(200), nullable=False),
        sa.Column("before", sa.BigInteger),
        sa.Column("after", sa.BigInteger),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True)),
    ]
    if old_version == 5:
        columns += [
            sa.Column(name, sa.Text, nullable=False, server_default="")
            for name in ("requested", "changes", "resolved")
        ]
        sa.Table(
            "once_keys",
            old,
            sa.Column("key", sa.String(200), primary_key=True),
            sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("user_id", sa.String(32), nullable=False, server_default=""),
        )
    sa.Table("audit_log", old, *columns, sa.Index("ix_audit_at", "at"))
    engine = sa.create_engine(store_url, poolclass=sa.pool.NullPool)
    old.create_all(engine)
    schema_version.create(engine)
    at = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:
        for version in range(1, old_version + 1):
            conn.execute(schema_version.insert().values(version=version, applied_at=at))
        conn.execute(
            sa.text(
                "INSERT INTO audit_log (at, team_id, user_id, action, target_type, target_id,"
                " target_name, before, after, reason, outcome, detail)"
                " VALUES (:at, '', 'U1', 'points.add', 'customer', 1870, 'Juan', 5, 15, '',"
                " 'ok', '')"
            ),
            {"at": at},
        )
    engine.dispose()
    store = Store.from_url(store_url)
    assert store.schema_version() == head()
    (kept,) = store.entries()
    assert (kept.before, kept.after, kept.requested, kept.changes) == (5, 15, "", {})
    new = store.record(
        user_id="U1",
        action="customer.update",
        outcome="pending",
        requested="x",
        changes={"last_name": ["A", "B"]},
    )
    assert store.complete(new, "ok", resolved="checked")
    entry = store.entry(new)
    assert entry is not None
    assert (entry.changes, entry.resolved) == ({"last_name": ["A", "B"]}, "checked")
    assert store.claim_once("command:t1") and not store.claim_once("command:t1")
    with store.engine.connect() as conn:
        assert not sa.inspect(conn).has_table("schema_version")  # the old runner's, gone


def test_the_postgresql_tests_refuse_a_database_not_named_for_tests(monkeypatch) -> None:
    from tests.conftest import fresh_postgres

    monkeypatch.setenv("LOYALTY_TEST_DATABASE_URL", "postgresql+psycopg://app@db.example/shop")
    with pytest.raises(pytest.fail.Exception, match=r"'shop'.*DROP SCHEMA public"):
        fresh_postgres()
