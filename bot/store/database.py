"""The bot's own records: the audit log, one-time keys, confirmations, approvals and the
daily summary's claims and snapshots (the tables are in `bot.store.schema`).

SQLAlchemy Core on DATABASE_URL; `Store.from_url` upgrades the database to the latest
migration first (`bot.store.migrate`). `Store` puts the repositories together, one module
per aggregate (audit_log, once_keys, clerk_points, confirmations, approvals, summaries,
balances, promotions, bot_identity, over base).

Writes that must happen before a change (its intent, a one-time key) raise
RecordUnavailable when the database cannot take them, so the change is not attempted.
"""

from __future__ import annotations

from bot.store.approvals import Approvals
from bot.store.audit_log import AuditLog, FenceTaken
from bot.store.balances import Balances, RecordedBalance
from bot.store.base import SQLITE_BUSY_SECONDS
from bot.store.bot_identity import BotIdentity
from bot.store.clerk_points import ClerkPoints
from bot.store.confirmations import Confirmations
from bot.store.once_keys import OnceKeys
from bot.store.promotions import Promotions
from bot.store.summaries import Summaries

__all__ = ["SQLITE_BUSY_SECONDS", "FenceTaken", "RecordedBalance", "Store"]


class Store(
    AuditLog,
    OnceKeys,
    ClerkPoints,
    Confirmations,
    Approvals,
    Summaries,
    Balances,
    Promotions,
    BotIdentity,
):
    """Every record of one workspace (or of the only one)."""
