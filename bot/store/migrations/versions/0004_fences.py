"""A change in flight fences its record: the pending intent row carries the record's
fence (its program and key), unique among the rows that still hold one.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("fence", sa.String(200), nullable=True))
    # Unique: a second change to a fenced record cannot even write its intent. Rows whose
    # fence was lifted hold NULL, which never collides (SQLite and PostgreSQL alike).
    op.create_index("ux_audit_fence", "audit_log", ["fence"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_audit_fence", "audit_log")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("fence")
