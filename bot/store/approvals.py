"""Publication approvals: requested, decided, and where their message is."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from bot.domain.audit import (
    as_utc,
    utcnow,
)
from bot.domain.records import (
    OPEN_STATES,
    Approval,
    ApprovalState,
)
from bot.domain.say import Say, dump_said, load_said
from bot.store.base import StoreBase, _new_id
from bot.store.schema import approvals


def _approval(row: Any) -> Approval:
    data = dict(row._mapping)
    data["requested_at"] = as_utc(data["requested_at"])
    data["decided_at"] = as_utc(data["decided_at"])
    data["note_said"] = load_said(data.get("note_said"))
    return Approval(**data)


class Approvals(StoreBase):
    def add_approval(self, **values: Any) -> Approval:
        values = {**values, "requested_at": utcnow(), "state": ApprovalState.PENDING}
        if self.workspace is not None:
            values["team_id"] = self.workspace
        with self.engine.begin() as conn:
            result = conn.execute(approvals.insert().values(**values))
            approval_id = _new_id(result)
        found = self.approval(approval_id)
        assert found is not None
        return found

    def approval(self, approval_id: int) -> Approval | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(approvals).where(approvals.c.id == approval_id, self._mine(approvals))
            ).first()
        return _approval(row) if row else None

    def open_approvals(self, offer_id: int | None = None) -> list[Approval]:
        query = sa.select(approvals).where(
            approvals.c.state.in_(OPEN_STATES), self._mine(approvals)
        )
        if offer_id is not None:
            query = query.where(approvals.c.offer_id == offer_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(approvals.c.requested_at))
            return [_approval(row) for row in rows]

    def publishing(self, offer_id: int) -> bool:
        """Is a manager's approved publication of this offer being carried out?"""
        query = sa.select(approvals.c.id).where(
            approvals.c.offer_id == offer_id,
            approvals.c.state == ApprovalState.PUBLISHING,
            self._mine(approvals),
        )
        with self.engine.connect() as conn:
            return conn.execute(query.limit(1)).first() is not None

    def approvals_for(self, offer_id: int, *, since: dt.datetime) -> list[Approval]:
        query = sa.select(approvals).where(
            approvals.c.offer_id == offer_id,
            approvals.c.requested_at >= since,
            self._mine(approvals),
        )
        with self.engine.connect() as conn:
            return [_approval(row) for row in conn.execute(query)]

    def set_approval_message(
        self, approval_id: int, *, channel_id: str, message_ts: str, permalink: str | None
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                approvals.update()
                .where(approvals.c.id == approval_id, self._mine(approvals))
                .values(channel_id=channel_id, message_ts=message_ts, permalink=permalink)
            )

    def delete_approval(self, approval_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                approvals.delete().where(approvals.c.id == approval_id, self._mine(approvals))
            )

    def move_approval(
        self,
        approval_id: int,
        *,
        to: str,
        only_from: tuple[str, ...],
        user_id: str | None = None,
        note: str | Say | None = None,
        decided_before: dt.datetime | None = None,
    ) -> bool:
        """Change the state atomically if it is one of `only_from`: True for the one winner.
        A `note` given as a Say is kept as said too (`note_said`), for each reader."""
        query = approvals.update().where(
            approvals.c.id == approval_id, approvals.c.state.in_(only_from), self._mine(approvals)
        )
        if decided_before is not None:
            query = query.where(approvals.c.decided_at < decided_before)
        values: dict[str, Any] = {"state": to, "decided_at": utcnow()}
        if user_id is not None:
            values["decided_by"] = user_id
        if note is not None:
            values["note"] = str(note)
            values["note_said"] = dump_said(note) if isinstance(note, Say) else None
        with self.engine.begin() as conn:
            return conn.execute(query.values(**values)).rowcount == 1
