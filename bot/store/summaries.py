"""The daily summary: its post claimed once per day and channel, snapshots, and the moves
of points it counts."""

from __future__ import annotations

import datetime as dt
import zlib
from array import array
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.domain.audit import (
    GIVING_ACTIONS,
    POINTS_ACTIONS,
    Action,
    Changes,
    Outcome,
    Target,
    as_utc,
    load_changes,
    utcnow,
)
from bot.domain.records import Snapshot
from bot.store.base import StoreBase
from bot.store.schema import (
    audit_log,
    summary_posts,
    summary_snapshots,
)


class Summaries(StoreBase):
    def claim_summary_post(
        self,
        day: str,
        channel_id: str,
        *,
        stale_before: dt.datetime | None = None,
        now: dt.datetime | None = None,
    ) -> bool:
        """The unique (day, channel) record: True for the one poster that may post. A claim
        made before `stale_before` that never got its message (its poster died) is taken
        over, by one poster only."""
        now = now or utcnow()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    summary_posts.insert().values(
                        team_id=self._team, day=day, channel_id=channel_id, claimed_at=now
                    )
                )
            return True
        except IntegrityError:
            if stale_before is None:
                return False
        with self.engine.begin() as conn:
            taken = conn.execute(
                summary_posts.update()
                .where(
                    summary_posts.c.team_id == self._team,
                    summary_posts.c.day == day,
                    summary_posts.c.channel_id == channel_id,
                    summary_posts.c.message_ts.is_(None),
                    summary_posts.c.claimed_at < stale_before,
                )
                .values(claimed_at=now)
            )
            return taken.rowcount == 1

    def summary_posted(self, day: str, channel_id: str, message_ts: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                summary_posts.update()
                .where(
                    summary_posts.c.team_id == self._team,
                    summary_posts.c.day == day,
                    summary_posts.c.channel_id == channel_id,
                )
                .values(message_ts=message_ts)
            )

    def release_summary_post(self, day: str, channel_id: str) -> None:
        """Posting failed: let a later attempt claim the day again."""
        with self.engine.begin() as conn:
            conn.execute(
                summary_posts.delete().where(
                    summary_posts.c.team_id == self._team,
                    summary_posts.c.day == day,
                    summary_posts.c.channel_id == channel_id,
                )
            )

    def summary_post(self, day: str, channel_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(summary_posts).where(
                    summary_posts.c.team_id == self._team,
                    summary_posts.c.day == day,
                    summary_posts.c.channel_id == channel_id,
                )
            ).first()
        return dict(row._mapping) if row else None

    def save_snapshot(self, day: str, customer_ids: Sequence[int], points_total: int) -> bool:
        """Keep the day's first snapshot (later ones the same day are ignored)."""
        blob = zlib.compress(array("q", sorted(customer_ids)).tobytes(), 6)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    summary_snapshots.insert().values(
                        team_id=self._team,
                        day=day,
                        taken_at=utcnow(),
                        customers=len(customer_ids),
                        points_total=points_total,
                        customer_ids=blob,
                    )
                )
            return True
        except IntegrityError:
            return False

    def snapshot_before(self, day: str) -> Snapshot | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(summary_snapshots)
                .where(summary_snapshots.c.team_id == self._team, summary_snapshots.c.day < day)
                .order_by(summary_snapshots.c.day.desc())
                .limit(1)
            ).first()
        if row is None:
            return None
        ids = array("q")
        ids.frombytes(zlib.decompress(row.customer_ids))
        return Snapshot(row.day, as_utc(row.taken_at), row.customers, row.points_total, ids)

    def prune_snapshots(self, keep_after_day: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                summary_snapshots.delete().where(
                    summary_snapshots.c.team_id == self._team,
                    summary_snapshots.c.day < keep_after_day,
                )
            )

    def redemptions_since(self, since: dt.datetime) -> tuple[int, int]:
        """(rewards, points) redeemed successfully since `since`."""
        query = sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(audit_log.c.before - audit_log.c.after), 0),
        ).where(
            self._mine(audit_log),
            audit_log.c.action == Action.POINTS_REDEEM,
            audit_log.c.outcome == Outcome.OK,
            audit_log.c.undone_at.is_(None),
            audit_log.c.at >= since,
        )
        with self.engine.connect() as conn:
            count, points = conn.execute(query).one()
        return int(count), int(points)

    def sales_since(self, since: dt.datetime) -> list[tuple[int, Changes]]:
        """(points added, what was recorded about the sale) of every sale that stands since
        `since` (undone ones left out)."""
        query = sa.select(audit_log.c.after - audit_log.c.before, audit_log.c.changes).where(
            self._mine(audit_log),
            audit_log.c.action == Action.POINTS_SALE,
            audit_log.c.outcome == Outcome.OK,
            audit_log.c.undone_at.is_(None),
            audit_log.c.at >= since,
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [(int(points or 0), load_changes(changes)) for points, changes in rows]

    def points_given_since(
        self, since: dt.datetime, *, user_id: str | None = None, customer_id: int | None = None
    ) -> int:
        """The points added since `since` by changes that stand (adds, and balances set
        higher), by one person or to one customer, in one query: the cheap first look of an
        alert check."""
        by_person = user_id is not None
        query = _POINTS_GIVEN[by_person, self.workspace is not None]
        values = {"who": user_id if by_person else customer_id, "since": since, "team": self._team}
        with self._one_statement() as conn:
            return int(conn.execute(query, values).scalar_one())

    def points_given_both(
        self, user_id: str, person_since: dt.datetime, customer_id: int, customer_since: dt.datetime
    ) -> tuple[int, int]:
        """points_given_since by `user_id` since `person_since`, and to `customer_id` since
        `customer_since`, in one query (the two alert checks after a change)."""
        values = {
            "who_person": user_id,
            "since_person": person_since,
            "who_customer": customer_id,
            "since_customer": customer_since,
            "team": self._team,
        }
        with self._one_statement() as conn:
            row = conn.execute(_POINTS_GIVEN_BOTH[self.workspace is not None], values).one()
        return int(row[0]), int(row[1])

    def points_moves_since(self, since: dt.datetime) -> list[tuple[dt.datetime, str, int, str]]:
        """(when, who, before-to-after delta, action) of every successful points change
        since, net: a change that was undone and its undo cancel out (both stay in the
        history)."""
        query = sa.select(
            audit_log.c.at,
            audit_log.c.user_id,
            (audit_log.c.after - audit_log.c.before).label("delta"),
            audit_log.c.action,
        ).where(
            self._mine(audit_log),
            audit_log.c.action.in_([a for a in POINTS_ACTIONS if a != Action.POINTS_UNDO]),
            audit_log.c.outcome == Outcome.OK,
            audit_log.c.undone_at.is_(None),
            audit_log.c.at >= since,
            audit_log.c.before.is_not(None),
            audit_log.c.after.is_not(None),
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            (as_utc(at), str(user), int(delta), str(action)) for at, user, delta, action in rows
        ]


def _points_given(by_person: bool, in_workspace: bool, suffix: str = "") -> sa.Select[Any]:
    """The points added since `:since` by changes that stand, by one person or to one
    customer (`:who`), in one workspace (`:team`) or in all (the parameters' names end in
    `suffix`, so two of these can be asked in one statement)."""
    who = (
        audit_log.c.user_id == sa.bindparam("who" + suffix)
        if by_person
        else sa.and_(
            audit_log.c.target_type == Target.CUSTOMER,
            audit_log.c.target_id == sa.bindparam("who" + suffix),
        )
    )
    return sa.select(
        sa.func.coalesce(sa.func.sum(audit_log.c.after - audit_log.c.before), 0)
    ).where(
        audit_log.c.team_id == sa.bindparam("team") if in_workspace else sa.true(),
        who,
        audit_log.c.action.in_([*GIVING_ACTIONS, Action.POINTS_SET]),
        audit_log.c.outcome == Outcome.OK,
        audit_log.c.undone_at.is_(None),
        audit_log.c.at >= sa.bindparam("since" + suffix),
        audit_log.c.after > audit_log.c.before,
    )


# Built once (by person?, in one workspace?): looked at after every change (the alert
# checks), where building the statement each time cost more than running it.
_POINTS_GIVEN = {
    (by_person, in_workspace): _points_given(by_person, in_workspace)
    for by_person in (True, False)
    for in_workspace in (True, False)
}
# Both alert checks' sums in one round trip (by one person since, to one customer since).
_POINTS_GIVEN_BOTH = {
    in_workspace: sa.select(
        _points_given(True, in_workspace, "_person").scalar_subquery(),
        _points_given(False, in_workspace, "_customer").scalar_subquery(),
    )
    for in_workspace in (True, False)
}
