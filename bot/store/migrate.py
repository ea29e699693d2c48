"""Upgrading the bot's database with Alembic, on every start.

Several processes may start at once (gunicorn's workers, the clock): the upgrade runs
under the same per-record lock the changes use (`bot.store.locks`), keyed "schema", so
one process migrates while the others wait and then find nothing left to do.

A database already at LATEST (every start but the first after an upgrade) is found so
with one query, without importing Alembic: a serving process never loads it (each
worker's memory: bench_memory).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.store.locks import locks_for

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_WAIT_SECONDS = 120.0
# The newest revision in migrations/versions: a new migration sets it (a unit test checks
# that it is Alembic's head).
LATEST = "0011"
VERSION_TABLE = "alembic_version"

if TYPE_CHECKING:
    from alembic.config import Config


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    """The latest revision the migrations hold (Alembic's head)."""
    from alembic.script import ScriptDirectory

    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None
    return revision


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated). Read as Alembic keeps it:
    one row in its version table (a linear history has one head)."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table(VERSION_TABLE):
            return None
        version = sa.table(VERSION_TABLE, sa.column("version_num"))
        rows = conn.execute(sa.select(version.c.version_num)).scalars().all()
    return str(rows[0]) if len(rows) == 1 else None


def upgrade(engine: Engine) -> str:
    """Bring the database to the latest revision; returns it."""
    try:
        if current_revision(engine) == LATEST:
            return LATEST
    except sa.exc.OperationalError:  # a new SQLite file another start is setting up (or
        pass  # no database): read again below, under the schema lock, as before
    from alembic import command

    locks = locks_for(engine)
    try:
        with locks.hold("schema", "the database schema", wait=MIGRATION_WAIT_SECONDS):
            before = current_revision(engine)
            if before != head():
                config = _config()
                with engine.begin() as conn:
                    config.attributes["connection"] = conn
                    command.upgrade(config, "head")
                log.info("database upgraded from revision %s to %s", before, head())
    finally:
        locks.close()
    return head()
