"""The shop's promotions: extra points on sales for some days and hours.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "promotions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("team_id", sa.String(32), nullable=False, server_default=""),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("multiplier", sa.String(12), nullable=False),
        sa.Column("bonus", sa.BigInteger, nullable=False),
        sa.Column("weekdays", sa.String(7), nullable=False),
        sa.Column("starts", sa.String(5), nullable=True),
        sa.Column("ends", sa.String(5), nullable=True),
        sa.Column("first_day", sa.String(10), nullable=True),
        sa.Column("last_day", sa.String(10), nullable=True),
        sa.Column("under_balance", sa.BigInteger, nullable=True),
        sa.Column("stacking", sa.Boolean, nullable=False),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_promotions_team", "promotions", ["team_id", "ended_at"])


def downgrade() -> None:
    op.drop_index("ix_promotions_team", "promotions")
    op.drop_table("promotions")
