"""Slack's bot and refresh tokens are stored sealed (Fernet), like App Keys: their
columns become text (a sealed refresh token outgrows 200 characters), and tokens stored
in the clear are sealed now if LOYALTY_ENCRYPTION_KEY is in the environment (else the
first start in the any-workspace mode seals them: `bot.store.installations.seal_rows`).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import logging
import os

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)
COLUMNS = {
    "slack_installations": ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token"),
    "slack_bots": ("bot_token", "bot_refresh_token"),
}


def upgrade() -> None:
    for table, names in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name in names:
                batch.alter_column(name, type_=sa.Text(), existing_type=sa.String(200))
    key = os.environ.get("LOYALTY_ENCRYPTION_KEY", "").strip()
    if key:
        from bot.store.installations import seal_rows
        from bot.store.sealed import KeyBox

        sealed = seal_rows(op.get_bind(), KeyBox(key))
        log.info("sealed %d Slack token(s) stored in the clear", sealed)


def downgrade() -> None:
    for table, names in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name in names:
                batch.alter_column(name, type_=sa.String(200), existing_type=sa.Text())
