"""Alembic's environment: the connection comes from `bot.store.migrate` (on start), or,
for `alembic revision` by a developer, from DATABASE_URL."""

from __future__ import annotations

import os

import sqlalchemy as sa
from alembic import context

from bot.store.base import engine_url
from bot.store.installations import metadata  # the bot's tables and Slack's (OAuth mode)

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # the alembic command line
    engine = sa.create_engine(
        engine_url(os.environ.get("DATABASE_URL", "sqlite:///loyalty-bot.db"))
    )
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
