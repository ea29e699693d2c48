"""Upgrading the bot's database with Alembic, on every start.

Several processes may start at once (gunicorn's workers, the clock): the upgrade runs
under the same per-record lock the changes use (`bot.store.locks`), keyed "schema", so
one process migrates while the others wait and then find nothing left to do.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from bot.store.locks import locks_for

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_WAIT_SECONDS = 120.0


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    """The latest revision this code knows."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None
    return revision


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> str:
    """Bring the database to the latest revision; returns it."""
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
