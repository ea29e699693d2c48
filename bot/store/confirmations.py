"""Confirmations: the one-time tokens behind delete and cancel buttons."""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa

from bot.domain.audit import (
    as_utc,
    utcnow,
)
from bot.domain.records import (
    Confirmation,
    ConfirmationState,
)
from bot.store.base import StoreBase
from bot.store.schema import confirmations


def _confirmation(row: Any) -> Confirmation:
    data = dict(row._mapping)
    data.pop("team_id", None)
    data["created_at"] = as_utc(data["created_at"])
    data["done_at"] = as_utc(data["done_at"])
    return Confirmation(**data)


class Confirmations(StoreBase):
    def add_confirmation(
        self, *, kind: str, target_id: int, target_name: str, requested_by: str
    ) -> str:
        token = secrets.token_urlsafe(12)
        with self.engine.begin() as conn:
            conn.execute(
                confirmations.insert().values(
                    token=token,
                    team_id=self._team,
                    kind=kind,
                    target_id=target_id,
                    target_name=target_name[:200],
                    requested_by=requested_by,
                    created_at=utcnow(),
                    state=ConfirmationState.PENDING,
                )
            )
        return token

    def confirmation(self, token: str) -> Confirmation | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(confirmations).where(
                    confirmations.c.token == token, self._mine(confirmations)
                )
            ).first()
        return _confirmation(row) if row else None

    def claim_confirmation(self, token: str) -> bool:
        """pending -> working, atomically: True for the one click that may act."""
        with self.engine.begin() as conn:
            result = conn.execute(
                confirmations.update()
                .where(
                    confirmations.c.token == token,
                    confirmations.c.state == ConfirmationState.PENDING,
                    self._mine(confirmations),
                )
                .values(state=ConfirmationState.WORKING)
            )
            return result.rowcount == 1

    def finish_confirmation(self, token: str, *, done: bool, user_id: str) -> None:
        values: dict[str, Any] = (
            {"state": ConfirmationState.DONE, "done_by": user_id, "done_at": utcnow()}
            if done
            else {"state": ConfirmationState.PENDING}
        )
        with self.engine.begin() as conn:
            conn.execute(
                confirmations.update()
                .where(confirmations.c.token == token, self._mine(confirmations))
                .values(**values)
            )
