"""The audit log: every change's intent, outcome and fence, and what was recorded when."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.domain.audit import (
    Actor,
    AuditEntry,
    Changes,
    Outcome,
    Target,
    as_utc,
    dump_changes,
    load_changes,
    utcnow,
)
from bot.domain.say import Say, dump_said, load_said
from bot.store.base import StoreBase, _new_id, recording
from bot.store.schema import audit_log


def _entry(row: Any) -> AuditEntry:
    data = dict(row._mapping)
    data["at"] = as_utc(data["at"])
    data["undone_at"] = as_utc(data["undone_at"])
    data["changes"] = load_changes(data.get("changes"))
    data["detail_said"] = load_said(data.get("detail_said"))
    return AuditEntry(**data)


class FenceTaken(Exception):
    """The intent could not be written: another change in flight holds `fence`."""

    def __init__(self, fence: str) -> None:
        super().__init__(fence)
        self.fence = fence


# Built once: every change writes its intent and completes it (building each statement
# cost more than running it). Completing sets the columns it is given.
_NEW_ENTRY = audit_log.insert()
_COMPLETE = {
    in_workspace: audit_log.update().where(
        audit_log.c.id == sa.bindparam("entry_id"),
        audit_log.c.team_id == sa.bindparam("entry_team") if in_workspace else sa.true(),
        sa.or_(audit_log.c.outcome == Outcome.PENDING, audit_log.c.fence.is_not(None)),
    )
    for in_workspace in (True, False)
}


class AuditLog(StoreBase):
    @recording
    def record(
        self,
        *,
        user_id: str,
        action: str,
        outcome: str,
        team_id: str = "",
        target_type: str = "",
        target_id: int | None = None,
        target_name: str = "",
        before: int | None = None,
        after: int | None = None,
        reason: str = "",
        detail: str | Say = "",
        requested: str = "",
        changes: Changes | None = None,
        at: dt.datetime | None = None,
        fence: str | None = None,
        via: str = "",
    ) -> int:
        """Write one entry; a change writes its intent here (outcome pending) first, with
        its record's `fence`: FenceTaken if another change in flight holds it (the unique
        index decides, in the same write: no read first)."""
        try:
            with self._one_statement() as conn:
                result = conn.execute(
                    _NEW_ENTRY,
                    {
                        "at": at or utcnow(),
                        "team_id": team_id if self.workspace is None else self.workspace,
                        "user_id": user_id,
                        "action": action,
                        "target_type": target_type,
                        "target_id": target_id,
                        "target_name": target_name[:200],
                        "before": before,
                        "after": after,
                        "reason": reason,
                        "outcome": outcome,
                        "detail": str(detail),
                        "detail_said": dump_said(detail) if isinstance(detail, Say) else None,
                        "requested": requested,
                        "changes": dump_changes(changes),
                        "resolved": "",
                        "fence": fence,
                        "via": via[:200],
                    },
                )
        except IntegrityError:
            if fence is None:
                raise
            raise FenceTaken(fence) from None
        return _new_id(result)

    def record_by(self, actor: Actor, **entry: Any) -> int:
        """`record` for what an actor did (the other columns by name)."""
        return self.record(user_id=actor.user_id, team_id=actor.team_id, via=actor.via, **entry)

    @recording
    def complete(
        self,
        entry_id: int,
        outcome: str,
        *,
        lift: bool = True,
        changes: Changes | None = None,
        **values: Any,
    ) -> bool:
        """Write how a change ended (outcome, after, detail, target, changes, resolved),
        if it is still open (pending, or fenced): True if it was. `lift`: the change can no
        longer land, so its record's fence is lifted; False keeps it (an unknown outcome
        whose request may still be on its way, settled later)."""
        values = {k: v for k, v in values.items() if v is not None}
        if "detail" in values:  # in English, and as said (for each reader's language)
            detail = values["detail"]
            values["detail"] = str(detail)
            values["detail_said"] = dump_said(detail) if isinstance(detail, Say) else None
        if "target_name" in values:
            values["target_name"] = values["target_name"][:200]
        if changes is not None:
            values["changes"] = dump_changes(changes)
        if lift:
            values["fence"] = None
        query = _COMPLETE[self.workspace is not None]
        values.update(outcome=outcome, entry_id=entry_id, entry_team=self._team)
        with self._one_statement() as conn:
            return conn.execute(query, values).rowcount == 1

    def fenced_by(self, fence: str) -> AuditEntry | None:
        """The change in flight that holds `fence`, in whichever workspace it was made (two
        workspaces may share one program)."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(audit_log).where(audit_log.c.fence == fence)).first()
        return _entry(row) if row else None

    def unsettled(self) -> list[AuditEntry]:
        """Entries still open, oldest first: pending, or completed as unknown while their
        request may still land (fenced)."""
        query = (
            sa.select(audit_log)
            .where(
                self._mine(audit_log),
                sa.or_(audit_log.c.outcome == Outcome.PENDING, audit_log.c.fence.is_not(None)),
            )
            .order_by(audit_log.c.at, audit_log.c.id)
        )
        with self.engine.connect() as conn:
            return [_entry(row) for row in conn.execute(query)]

    def entry(self, entry_id: int) -> AuditEntry | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(audit_log).where(audit_log.c.id == entry_id, self._mine(audit_log))
            ).first()
        return _entry(row) if row else None

    def entries(
        self,
        *,
        target_type: str | None = None,
        target_id: int | None = None,
        user_id: str | None = None,
        actions: Sequence[str] | None = None,
        outcome: str | None = None,
        resolved: str | None = None,
        since: dt.datetime | None = None,
        before: dt.datetime | None = None,
        after_id: int | None = None,
        oldest_first: bool = False,
        limit: int | None = 20,
    ) -> list[AuditEntry]:
        """Newest first (or oldest first)."""
        order = (audit_log.c.at, audit_log.c.id)
        query = (
            sa.select(audit_log)
            .where(self._mine(audit_log))
            .order_by(*(order if oldest_first else (c.desc() for c in order)))
        )
        if target_type is not None:
            query = query.where(audit_log.c.target_type == target_type)
        if target_id is not None:
            query = query.where(audit_log.c.target_id == target_id)
        if user_id is not None:
            query = query.where(audit_log.c.user_id == user_id)
        if actions is not None:
            query = query.where(audit_log.c.action.in_(list(actions)))
        if outcome is not None:
            query = query.where(audit_log.c.outcome == outcome)
        if resolved is not None:
            query = query.where(audit_log.c.resolved == resolved)
        if since is not None:
            query = query.where(audit_log.c.at >= since)
        if before is not None:
            query = query.where(audit_log.c.at < before)
        if after_id is not None:
            query = query.where(audit_log.c.id > after_id)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [_entry(row) for row in conn.execute(query)]

    def stream_entries(
        self,
        *,
        since: dt.datetime,
        until: dt.datetime | None = None,
        target_id: int | None = None,
        batch: int = 500,
    ) -> Iterator[AuditEntry]:
        """Every entry since `since` (and before `until`, if given; of one customer, if
        given), oldest first, read `batch` rows at a time (a server-side cursor on
        PostgreSQL): an export of years of history never sits whole in memory."""
        query = (
            sa.select(audit_log)
            .where(self._mine(audit_log), audit_log.c.at >= since)
            .order_by(audit_log.c.at, audit_log.c.id)
        )
        if until is not None:
            query = query.where(audit_log.c.at < until)
        if target_id is not None:
            query = query.where(
                audit_log.c.target_type == Target.CUSTOMER, audit_log.c.target_id == target_id
            )
        with self.engine.connect() as conn:
            rows = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
            for row in rows:
                yield _entry(row)

    def workspaces_settled_since(self, since: dt.datetime) -> list[str]:
        """OAuth mode: the workspaces with changes settled later since `since` (to tell)."""
        query = (
            sa.select(audit_log.c.team_id)
            .where(audit_log.c.resolved == "reconciled", audit_log.c.at >= since)
            .distinct()
        )
        with self.engine.connect() as conn:
            return [str(team) for team in conn.execute(query).scalars()]

    def workspaces_with_pending(self) -> list[str]:
        """OAuth mode: the workspaces with entries still open (to reconcile)."""
        query = (
            sa.select(audit_log.c.team_id)
            .where(sa.or_(audit_log.c.outcome == Outcome.PENDING, audit_log.c.fence.is_not(None)))
            .distinct()
        )
        with self.engine.connect() as conn:
            return [str(team) for team in conn.execute(query).scalars()]
