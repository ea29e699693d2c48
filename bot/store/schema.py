"""The bot's tables (SQLAlchemy Core). Changing them takes an Alembic revision in
`bot/store/migrations/versions/`: the database is upgraded on start."""

from __future__ import annotations

import sqlalchemy as sa

from bot.domain.records import ConfirmationState

metadata = sa.MetaData()
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("team_id", sa.String(32), nullable=False, default=""),
    sa.Column("user_id", sa.String(32), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("target_type", sa.String(20), nullable=False, default=""),
    sa.Column("target_id", sa.BigInteger, nullable=True),
    sa.Column("target_name", sa.String(200), nullable=False, default=""),
    sa.Column("before", sa.BigInteger, nullable=True),
    sa.Column("after", sa.BigInteger, nullable=True),
    sa.Column("reason", sa.Text, nullable=False, default=""),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("detail", sa.Text, nullable=False, default=""),
    sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
    # v5: what was asked ("+10", or the submitted fields as JSON), the fields' before and
    # after as JSON, and how an unclear outcome was settled ("checked", "reconciled").
    sa.Column("requested", sa.Text, nullable=False, server_default="", default=""),
    sa.Column("changes", sa.Text, nullable=False, server_default="", default=""),
    sa.Column("resolved", sa.String(20), nullable=False, server_default="", default=""),
    # v4: the fence of a change in flight (its program and record); NULL once it is lifted.
    sa.Column("fence", sa.String(200), nullable=True),
    # v7: a change made by a Workflow Builder step: the workflow's name.
    sa.Column("via", sa.String(200), nullable=False, server_default="", default=""),
    # v9: the detail as it was said (bot.domain.say.dump_said), read in each reader's words.
    sa.Column("detail_said", sa.Text, nullable=True),
    sa.Index("ux_audit_fence", "fence", unique=True),
    sa.Index("ix_audit_target", "target_type", "target_id", "at"),
    sa.Index("ix_audit_user_action", "user_id", "action", "at"),
    sa.Index("ix_audit_at", "at"),
    sa.Index("ix_audit_outcome", "outcome"),
    sa.Index("ix_audit_team_at", "team_id", "at"),
)

# A command, button click or form submission that changes something claims its key here
# once: a double click, a Slack retry or a replayed request finds it taken.
once_keys = sa.Table(
    "once_keys",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("user_id", sa.String(32), nullable=False, default=""),
    sa.Index("ix_once_claimed", "claimed_at"),
)


confirmations = sa.Table(
    "confirmations",
    metadata,
    sa.Column("token", sa.String(40), primary_key=True),
    sa.Column("team_id", sa.String(32), nullable=False, server_default="", default=""),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("target_id", sa.BigInteger, nullable=False),
    sa.Column("target_name", sa.String(200), nullable=False, default=""),
    sa.Column("requested_by", sa.String(32), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # pending -> working (one clicker won) -> done; back to pending if the act failed
    sa.Column("state", sa.String(20), nullable=False, default=ConfirmationState.PENDING),
    sa.Column("done_by", sa.String(32), nullable=True),
    sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
)


approvals = sa.Table(
    "approvals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("offer_id", sa.BigInteger, nullable=False),
    sa.Column("offer_name", sa.String(200), nullable=False),
    # The offer as the approvers saw it: approving anything else is refused.
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("points_cost", sa.BigInteger, nullable=False),
    sa.Column("auto_claim", sa.Boolean, nullable=False),
    sa.Column("fingerprint", sa.String(32), nullable=False),
    sa.Column("team_id", sa.String(32), nullable=False, default=""),
    sa.Column("requested_by", sa.String(32), nullable=False),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("channel_id", sa.String(32), nullable=False, default=""),
    sa.Column("message_ts", sa.String(32), nullable=True),
    sa.Column("permalink", sa.Text, nullable=True),
    # pending -> publishing -> published | failed (retryable); pending -> rejected | stale
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("decided_by", sa.String(32), nullable=True),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("note_said", sa.Text, nullable=True),  # the note as said (bot.domain.say)
    sa.Index("ix_approvals_state", "state"),
    sa.Index("ix_approvals_offer", "offer_id"),
)


summary_snapshots = sa.Table(
    "summary_snapshots",
    metadata,
    sa.Column("team_id", sa.String(32), primary_key=True, server_default="", default=""),
    sa.Column("day", sa.String(10), primary_key=True),  # local date, YYYY-MM-DD
    sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("customers", sa.Integer, nullable=False),
    sa.Column("points_total", sa.BigInteger, nullable=False),
    sa.Column("customer_ids", sa.LargeBinary, nullable=False),  # zlib of sorted int64s
)

summary_posts = sa.Table(
    "summary_posts",
    metadata,
    sa.Column("team_id", sa.String(32), primary_key=True, server_default="", default=""),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("channel_id", sa.String(32), primary_key=True),
    sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("message_ts", sa.String(32), nullable=True),
)

# Points each clerk added per local day, reserved before the change is sent (so two
# changes at once cannot both fit under the daily total) and given back when nothing
# was added.
clerk_points = sa.Table(
    "clerk_points",
    metadata,
    sa.Column("team_id", sa.String(32), primary_key=True, server_default="", default=""),
    sa.Column("user_id", sa.String(32), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),  # local date, YYYY-MM-DD
    sa.Column("points", sa.BigInteger, nullable=False),
)

# v8: the shop's promotions (bot.domain.earning.Promotion): extra points on sales for some
# days and hours, between two dates. Ended ones are kept (a sale's audit entry names them).
promotions = sa.Table(
    "promotions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("team_id", sa.String(32), nullable=False, server_default="", default=""),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("multiplier", sa.String(12), nullable=False),  # a Decimal, as text
    sa.Column("bonus", sa.BigInteger, nullable=False),
    sa.Column("weekdays", sa.String(7), nullable=False),  # "0123456": Monday is 0
    sa.Column("starts", sa.String(5), nullable=True),  # local HH:MM, or NULL: all day
    sa.Column("ends", sa.String(5), nullable=True),
    sa.Column("first_day", sa.String(10), nullable=True),  # local YYYY-MM-DD
    sa.Column("last_day", sa.String(10), nullable=True),
    sa.Column("under_balance", sa.BigInteger, nullable=True),
    sa.Column("stacking", sa.Boolean, nullable=False),
    sa.Column("paused", sa.Boolean, nullable=False),
    sa.Column("created_by", sa.String(32), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("ix_promotions_team", "team_id", "ended_at"),
)

# Installed in any workspace (OAuth mode): each workspace's program, its App Key (Fernet,
# bot.store.sealed; never stored in the clear) and the settings its managers chose.
# Slack's own tables are declared on this metadata by bot.store.installations (imported
# in OAuth mode, by the migrations and by the schema's test).
workspaces = sa.Table(
    "workspaces",
    metadata,
    sa.Column("team_id", sa.String(32), primary_key=True),
    sa.Column("program_id", sa.BigInteger, nullable=True),
    sa.Column("app_key", sa.Text, nullable=True),
    sa.Column("app_key_last4", sa.String(4), nullable=False, server_default="", default=""),
    sa.Column("connected_by", sa.String(32), nullable=False, server_default="", default=""),
    sa.Column("connected_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("settings", sa.Text, nullable=False, server_default="{}", default="{}"),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("uninstalled_at", sa.DateTime(timezone=True), nullable=True),
)


# What `verify` last saw of a customer's balance when it differed from the bot's records
# (changed outside the bot: a wallet claim, a dashboard edit), so it is reported once.
balances_seen = sa.Table(
    "balances_seen",
    metadata,
    sa.Column("team_id", sa.String(32), primary_key=True, server_default="", default=""),
    sa.Column("customer_id", sa.BigInteger, primary_key=True),
    sa.Column("balance", sa.BigInteger, nullable=False),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
)


# Slack's last answer to auth.test for a bot token (single-workspace mode), keyed by the
# token's SHA-256: a process that starts while Slack's API cannot be reached serves that
# workspace, as Slack named it, instead of asking before its first request's ack.
bot_identity = sa.Table(
    "bot_identity",
    metadata,
    sa.Column("token_digest", sa.String(64), primary_key=True),
    sa.Column("answer", sa.Text, nullable=False),  # auth.test's JSON, and the token's scopes
    sa.Column("learned_at", sa.DateTime(timezone=True), nullable=False),
)
