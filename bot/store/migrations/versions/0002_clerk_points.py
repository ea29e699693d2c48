"""The points each clerk added per local day (the clerk allowance's daily total).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clerk_points",
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("points", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("clerk_points")
