"""The schema as it stood when Alembic came in.

A fresh database gets every table. A database made by the bot's earlier migration runner
(with its `schema_version` table, at version 4 or 5) is completed in place: the tables it
lacks, the audit log's v5 columns and index, and the old runner's table dropped. Either
way it ends at this revision, without losing a row.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from typing import Any, NamedTuple

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


class Index(NamedTuple):
    name: str
    columns: tuple[str, ...]


def _tables() -> dict[str, list[sa.Column[Any] | Index]]:
    return {
        "audit_log": [
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("at", TZ, nullable=False),
            sa.Column("team_id", sa.String(32), nullable=False, server_default=""),
            sa.Column("user_id", sa.String(32), nullable=False),
            sa.Column("action", sa.String(40), nullable=False),
            sa.Column("target_type", sa.String(20), nullable=False, server_default=""),
            sa.Column("target_id", sa.BigInteger, nullable=True),
            sa.Column("target_name", sa.String(200), nullable=False, server_default=""),
            sa.Column("before", sa.BigInteger, nullable=True),
            sa.Column("after", sa.BigInteger, nullable=True),
            sa.Column("reason", sa.Text, nullable=False, server_default=""),
            sa.Column("outcome", sa.String(20), nullable=False),
            sa.Column("detail", sa.Text, nullable=False, server_default=""),
            sa.Column("undone_at", TZ, nullable=True),
            sa.Column("requested", sa.Text, nullable=False, server_default=""),
            sa.Column("changes", sa.Text, nullable=False, server_default=""),
            sa.Column("resolved", sa.String(20), nullable=False, server_default=""),
            Index(
                "ix_audit_target",
                (
                    "target_type",
                    "target_id",
                    "at",
                ),
            ),
            Index(
                "ix_audit_user_action",
                (
                    "user_id",
                    "action",
                    "at",
                ),
            ),
            Index("ix_audit_at", ("at",)),
            Index("ix_audit_outcome", ("outcome",)),
        ],
        "once_keys": [
            sa.Column("key", sa.String(200), primary_key=True),
            sa.Column("claimed_at", TZ, nullable=False),
            sa.Column("user_id", sa.String(32), nullable=False, server_default=""),
            Index("ix_once_claimed", ("claimed_at",)),
        ],
        "confirmations": [
            sa.Column("token", sa.String(40), primary_key=True),
            sa.Column("kind", sa.String(40), nullable=False),
            sa.Column("target_id", sa.BigInteger, nullable=False),
            sa.Column("target_name", sa.String(200), nullable=False, server_default=""),
            sa.Column("requested_by", sa.String(32), nullable=False),
            sa.Column("created_at", TZ, nullable=False),
            sa.Column("state", sa.String(20), nullable=False, server_default="pending"),
            sa.Column("done_by", sa.String(32), nullable=True),
            sa.Column("done_at", TZ, nullable=True),
        ],
        "approvals": [
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("offer_id", sa.BigInteger, nullable=False),
            sa.Column("offer_name", sa.String(200), nullable=False),
            sa.Column("description", sa.Text, nullable=False, server_default=""),
            sa.Column("points_cost", sa.BigInteger, nullable=False),
            sa.Column("auto_claim", sa.Boolean, nullable=False),
            sa.Column("fingerprint", sa.String(32), nullable=False),
            sa.Column("team_id", sa.String(32), nullable=False, server_default=""),
            sa.Column("requested_by", sa.String(32), nullable=False),
            sa.Column("requested_at", TZ, nullable=False),
            sa.Column("channel_id", sa.String(32), nullable=False, server_default=""),
            sa.Column("message_ts", sa.String(32), nullable=True),
            sa.Column("permalink", sa.Text, nullable=True),
            sa.Column("state", sa.String(20), nullable=False),
            sa.Column("decided_by", sa.String(32), nullable=True),
            sa.Column("decided_at", TZ, nullable=True),
            sa.Column("note", sa.Text, nullable=False, server_default=""),
            Index("ix_approvals_state", ("state",)),
            Index("ix_approvals_offer", ("offer_id",)),
        ],
        "summary_snapshots": [
            sa.Column("day", sa.String(10), primary_key=True),
            sa.Column("taken_at", TZ, nullable=False),
            sa.Column("customers", sa.Integer, nullable=False),
            sa.Column("points_total", sa.BigInteger, nullable=False),
            sa.Column("customer_ids", sa.LargeBinary, nullable=False),
        ],
        "summary_posts": [
            sa.Column("day", sa.String(10), primary_key=True),
            sa.Column("channel_id", sa.String(32), primary_key=True),
            sa.Column("claimed_at", TZ, nullable=False),
            sa.Column("message_ts", sa.String(32), nullable=True),
        ],
    }


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    existing = set(inspector.get_table_names())
    for name, parts in _tables().items():
        columns = [p for p in parts if isinstance(p, sa.Column)]
        indexes = [p for p in parts if isinstance(p, Index)]
        if name not in existing:
            op.create_table(name, *columns)
            for index in indexes:
                op.create_index(index.name, name, list(index.columns))
            continue
        # Made by the old runner: add what v5 added (an existing row gets "").
        present = {c["name"] for c in inspector.get_columns(name)}
        for column in columns:
            if column.name not in present:
                op.add_column(name, column)
        indexed = {i["name"] for i in inspector.get_indexes(name)}
        for index in indexes:
            if index.name not in indexed:
                op.create_index(index.name, name, list(index.columns))
    if "schema_version" in existing:
        op.drop_table("schema_version")


def downgrade() -> None:
    for name in reversed(list(_tables())):
        op.drop_table(name)
