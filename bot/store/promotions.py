"""The shop's promotions (bot.domain.earning.Promotion), kept per workspace."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from bot.domain.audit import utcnow
from bot.domain.earning import Promotion
from bot.store.base import StoreBase, recording
from bot.store.schema import promotions


def _promotion(row: Any) -> Promotion:
    return Promotion.from_record(row._mapping, int(row.id))


class Promotions(StoreBase):
    @recording
    def add_promotion(self, promo: Promotion, user_id: str, most: int) -> int | None:
        """Keep `promo` if fewer than `most` have not ended: its id, else None. One
        transaction counts and adds (SQLite serialises writers; on PostgreSQL two managers
        adding the last one at the same instant may both fit)."""
        running = sa.select(sa.func.count()).where(
            self._mine(promotions), promotions.c.ended_at.is_(None)
        )
        with self.engine.begin() as conn:
            if conn.execute(running).scalar_one() >= most:
                return None
            result = conn.execute(
                promotions.insert().values(
                    team_id=self._team,
                    created_by=user_id,
                    created_at=utcnow(),
                    **promo.as_record(),
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def promotions(self) -> list[Promotion]:
        """The promotions that have not ended (paused ones too), oldest first."""
        query = (
            sa.select(promotions)
            .where(self._mine(promotions), promotions.c.ended_at.is_(None))
            .order_by(promotions.c.id)
        )
        with self.engine.connect() as conn:
            return [_promotion(row) for row in conn.execute(query)]

    def promotion(self, promotion_id: int) -> Promotion | None:
        """A promotion that has not ended, or None."""
        query = sa.select(promotions).where(
            self._mine(promotions),
            promotions.c.id == promotion_id,
            promotions.c.ended_at.is_(None),
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _promotion(row) if row else None

    @recording
    def change_promotion(self, promotion_id: int, *, paused: bool | None = None) -> bool:
        """Pause or resume (`paused`), or end it (None): True if it had not ended."""
        values: dict[str, Any] = {"ended_at": utcnow()} if paused is None else {"paused": paused}
        query = promotions.update().where(
            self._mine(promotions),
            promotions.c.id == promotion_id,
            promotions.c.ended_at.is_(None),
        )
        with self.engine.begin() as conn:
            return conn.execute(query.values(**values)).rowcount == 1
