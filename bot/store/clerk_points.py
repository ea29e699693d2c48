"""The clerk allowance's daily totals: points reserved before a clerk's change is sent."""

from __future__ import annotations

import sqlalchemy as sa

from bot.store.base import StoreBase, recording
from bot.store.schema import clerk_points


class ClerkPoints(StoreBase):
    @recording
    def reserve_clerk_points(self, user_id: str, day: str, points: int, most: int) -> bool:
        """Count `points` against `user_id`'s total for `day` if it stays within `most`:
        True if reserved. One statement decides, so two changes at once cannot both fit."""
        with self.engine.begin() as conn:
            conn.execute(
                self._insert_new(
                    clerk_points, team_id=self._team, user_id=user_id, day=day, points=0
                )
            )
            return (
                conn.execute(
                    clerk_points.update()
                    .where(
                        clerk_points.c.team_id == self._team,
                        clerk_points.c.user_id == user_id,
                        clerk_points.c.day == day,
                        clerk_points.c.points + points <= most,
                    )
                    .values(points=clerk_points.c.points + points)
                ).rowcount
                == 1
            )

    @recording
    def release_clerk_points(self, user_id: str, day: str, points: int) -> None:
        """Give back points reserved for a change that added nothing (or was undone)."""
        left = clerk_points.c.points - points
        with self.engine.begin() as conn:
            conn.execute(
                clerk_points.update()
                .where(
                    clerk_points.c.team_id == self._team,
                    clerk_points.c.user_id == user_id,
                    clerk_points.c.day == day,
                )
                .values(points=sa.case((left < 0, 0), else_=left))
            )

    def clerk_points_on(self, user_id: str, day: str) -> int:
        with self.engine.connect() as conn:
            used = conn.execute(
                sa.select(clerk_points.c.points).where(
                    clerk_points.c.team_id == self._team,
                    clerk_points.c.user_id == user_id,
                    clerk_points.c.day == day,
                )
            ).scalar()
        return int(used or 0)
