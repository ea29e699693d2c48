"""What `verify` last saw of a customer's balance when it differed from the bot's own
records (a wallet claim, a dashboard edit), so a difference is reported once.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "balances_seen",
        sa.Column("team_id", sa.String(32), primary_key=True, server_default=""),
        sa.Column("customer_id", sa.BigInteger, primary_key=True),
        sa.Column("balance", sa.BigInteger, nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("balances_seen")
