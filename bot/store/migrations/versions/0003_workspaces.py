"""Installed in any workspace: every record keyed by workspace, the workspaces' programs,
and slack_sdk's installation and OAuth state tables.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TEAM: dict[str, Any] = {"server_default": "", "nullable": False}

# Tables whose primary key gains the workspace: rebuilt (the same on SQLite and PostgreSQL).
REKEYED = {
    "summary_snapshots": [
        sa.Column("team_id", sa.String(32), primary_key=True, **TEAM),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("customers", sa.Integer, nullable=False),
        sa.Column("points_total", sa.BigInteger, nullable=False),
        sa.Column("customer_ids", sa.LargeBinary, nullable=False),
    ],
    "summary_posts": [
        sa.Column("team_id", sa.String(32), primary_key=True, **TEAM),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("channel_id", sa.String(32), primary_key=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_ts", sa.String(32), nullable=True),
    ],
    "clerk_points": [
        sa.Column("team_id", sa.String(32), primary_key=True, **TEAM),
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("points", sa.BigInteger, nullable=False),
    ],
}


def upgrade() -> None:
    for name, columns in REKEYED.items():
        op.create_table(f"{name}_v3", *columns)
        kept = ", ".join(c.name for c in columns if c.name != "team_id")
        op.execute(f"INSERT INTO {name}_v3 ({kept}) SELECT {kept} FROM {name}")
        op.drop_table(name)
        op.rename_table(f"{name}_v3", name)
    with op.batch_alter_table("confirmations") as batch:
        batch.add_column(sa.Column("team_id", sa.String(32), **TEAM))
    op.create_index("ix_audit_team_at", "audit_log", ["team_id", "at"])
    op.create_table(
        "workspaces",
        sa.Column("team_id", sa.String(32), primary_key=True),
        sa.Column("program_id", sa.BigInteger, nullable=True),
        sa.Column("app_key", sa.Text, nullable=True),
        sa.Column("app_key_last4", sa.String(4), **TEAM),
        sa.Column("connected_by", sa.String(32), **TEAM),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settings", sa.Text, nullable=False, server_default="{}"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uninstalled_at", sa.DateTime(timezone=True), nullable=True),
    )
    slack = sa.MetaData()
    SQLAlchemyInstallationStore.build_installations_table(slack, "slack_installations")
    SQLAlchemyInstallationStore.build_bots_table(slack, "slack_bots")
    SQLAlchemyOAuthStateStore.build_oauth_states_table(slack, "slack_oauth_states")
    slack.create_all(op.get_bind())


def downgrade() -> None:
    for name in ("slack_oauth_states", "slack_bots", "slack_installations", "workspaces"):
        op.drop_table(name)
    op.drop_index("ix_audit_team_at", "audit_log")
    with op.batch_alter_table("confirmations") as batch:
        batch.drop_column("team_id")
