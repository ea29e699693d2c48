"""One-time keys (a request acted on once) and undo claims (an entry undone once)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.exc import IntegrityError

from bot.domain.audit import utcnow
from bot.store.base import StoreBase, recording
from bot.store.schema import (
    audit_log,
    once_keys,
)

_CLAIM = once_keys.insert()  # built once: every change claims a key


class OnceKeys(StoreBase):
    @recording
    def claim_once(self, key: str, user_id: str = "") -> bool:
        """True for the one caller that claims `key`; False if it was claimed before."""
        try:
            with self._one_statement() as conn:
                conn.execute(
                    _CLAIM,
                    {"key": self._once_key(key), "claimed_at": utcnow(), "user_id": user_id},
                )
            return True
        except IntegrityError:
            return False

    def release_once(self, key: str) -> None:
        """Nothing was done under the key: let the same action be tried again."""
        with self.engine.begin() as conn:
            conn.execute(once_keys.delete().where(once_keys.c.key == self._once_key(key)))

    def prune_once(self, claimed_before: dt.datetime) -> int:
        with self.engine.begin() as conn:
            return conn.execute(
                once_keys.delete().where(once_keys.c.claimed_at < claimed_before)
            ).rowcount

    def claim_undo(self, entry_id: int) -> bool:
        """Mark an entry undone, atomically: True for the one caller that wins."""
        with self.engine.begin() as conn:
            result = conn.execute(
                audit_log.update()
                .where(
                    audit_log.c.id == entry_id,
                    audit_log.c.undone_at.is_(None),
                    self._mine(audit_log),
                )
                .values(undone_at=utcnow())
            )
            return result.rowcount == 1

    def release_undo(self, entry_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                audit_log.update()
                .where(audit_log.c.id == entry_id, self._mine(audit_log))
                .values(undone_at=None)
            )
