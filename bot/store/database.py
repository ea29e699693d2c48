"""The bot's own records: the audit log, one-time keys, confirmations, approvals and the
daily summary's claims and snapshots (the tables are in `bot.store.schema`).

SQLAlchemy Core on DATABASE_URL; `Store.from_url` upgrades the database to the latest
migration first (`bot.store.migrate`).

Writes that must happen before a change (its intent, a one-time key) raise
RecordUnavailable when the database cannot take them, so the change is not attempted.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import secrets
import zlib
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.domain.audit import (
    POINTS_ACTIONS,
    Action,
    Actor,
    AuditEntry,
    Changes,
    Outcome,
    as_utc,
    dump_changes,
    load_changes,
    utcnow,
)
from bot.domain.errors import RecordUnavailable
from bot.domain.records import (
    OPEN_STATES,
    Approval,
    ApprovalState,
    Confirmation,
    ConfirmationState,
    Snapshot,
)
from bot.store.migrate import current_revision, upgrade
from bot.store.schema import (
    approvals,
    audit_log,
    balances_seen,
    clerk_points,
    confirmations,
    once_keys,
    summary_posts,
    summary_snapshots,
)

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

# How long a write waits for another SQLite writer before the database counts as locked.
SQLITE_BUSY_SECONDS = 5.0


def recording(method: Callable[P, R]) -> Callable[P, R]:
    """A write a change depends on: if the database cannot take it, RecordUnavailable."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except SQLAlchemyError as exc:
            log.warning("the store could not record (%s): %s", type(exc).__name__, exc)
            raise RecordUnavailable() from exc

    return wrapper


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _confirmation(row: Any) -> Confirmation:
    data = dict(row._mapping)
    data.pop("team_id", None)
    data["created_at"] = as_utc(data["created_at"])
    data["done_at"] = as_utc(data["done_at"])
    return Confirmation(**data)


def _approval(row: Any) -> Approval:
    data = dict(row._mapping)
    data["requested_at"] = as_utc(data["requested_at"])
    data["decided_at"] = as_utc(data["decided_at"])
    return Approval(**data)


def _entry(row: Any) -> AuditEntry:
    data = dict(row._mapping)
    data["at"] = as_utc(data["at"])
    data["undone_at"] = as_utc(data["undone_at"])
    data["changes"] = load_changes(data.get("changes"))
    return AuditEntry(**data)


@dataclass(frozen=True)
class RecordedBalance:
    """A customer's balance as the bot's records have it."""

    balance: int
    name: str
    unsure: bool  # the last change was made while fenced or unknown


class FenceTaken(Exception):
    """The intent could not be written: another change in flight holds `fence`."""

    def __init__(self, fence: str) -> None:
        super().__init__(fence)
        self.fence = fence


class Store:
    """The records of one workspace (`workspace`, in OAuth mode) or of the only one (None:
    a single-workspace deployment reads and writes every row, as before OAuth)."""

    def __init__(self, engine: Engine, workspace: str | None = None) -> None:
        self.engine = engine
        self.workspace = workspace

    def for_workspace(self, team_id: str) -> Store:
        """The same database, seen as one workspace's records only."""
        return Store(self.engine, workspace=team_id)

    @property
    def _team(self) -> str:
        return self.workspace or ""

    def _mine(self, table: sa.Table) -> Any:
        """Rows of this workspace (every row when there is only one)."""
        return sa.true() if self.workspace is None else table.c.team_id == self.workspace

    def _once_key(self, key: str) -> str:
        return (key if self.workspace is None else f"{self.workspace}:{key}")[:200]

    @classmethod
    def from_url(cls, url: str) -> Store:
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            # Listeners run on several threads; a write waits a little for another writer
            # (another process, say) and then fails, so a person is not kept waiting.
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS}
        else:
            # Short connections for reads and audit writes (locks keep a few of their own,
            # bot.locks). An unreachable server fails in seconds.
            kwargs.update(pool_pre_ping=True, pool_size=30, max_overflow=20, pool_timeout=20)
            if url.startswith("postgresql"):
                kwargs["connect_args"] = {"connect_timeout": 5}
        store = cls(sa.create_engine(url, **kwargs))
        store.migrate()
        return store

    # -- schema ----------------------------------------------------------

    def schema_version(self) -> str | None:
        """The Alembic revision the database is at."""
        return current_revision(self.engine)

    def migrate(self) -> str:
        """Upgrade the database to the latest revision (safe with several processes)."""
        return upgrade(self.engine)

    def reachable(self) -> bool:
        """Can the database be read right now (for /healthz)?"""
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar()
            return True
        except SQLAlchemyError:
            return False

    # -- audit log -------------------------------------------------------

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
        detail: str = "",
        requested: str = "",
        changes: Changes | None = None,
        at: dt.datetime | None = None,
        fence: str | None = None,
    ) -> int:
        """Write one entry; a change writes its intent here (outcome pending) first, with
        its record's `fence`: FenceTaken if another change in flight holds it (the unique
        index decides, in the same write: no read first)."""
        try:
            with self.engine.begin() as conn:
                result = conn.execute(
                    audit_log.insert().values(
                        at=at or utcnow(),
                        team_id=team_id if self.workspace is None else self.workspace,
                        user_id=user_id,
                        action=action,
                        target_type=target_type,
                        target_id=target_id,
                        target_name=target_name[:200],
                        before=before,
                        after=after,
                        reason=reason,
                        outcome=outcome,
                        detail=detail,
                        requested=requested,
                        changes=dump_changes(changes),
                        resolved="",
                        fence=fence,
                    )
                )
        except IntegrityError:
            if fence is None:
                raise
            raise FenceTaken(fence) from None
        return _new_id(result)

    def record_by(self, actor: Actor, **entry: Any) -> int:
        """`record` for what an actor did (the other columns by name)."""
        return self.record(user_id=actor.user_id, team_id=actor.team_id, **entry)

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
        if "target_name" in values:
            values["target_name"] = values["target_name"][:200]
        if changes is not None:
            values["changes"] = dump_changes(changes)
        if lift:
            values["fence"] = None
        query = audit_log.update().where(
            audit_log.c.id == entry_id,
            self._mine(audit_log),
            sa.or_(audit_log.c.outcome == Outcome.PENDING, audit_log.c.fence.is_not(None)),
        )
        with self.engine.begin() as conn:
            return conn.execute(query.values(outcome=outcome, **values)).rowcount == 1

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

    # -- one-time keys ------------------------------------------------------------------

    @recording
    def claim_once(self, key: str, user_id: str = "") -> bool:
        """True for the one caller that claims `key`; False if it was claimed before."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    once_keys.insert().values(
                        key=self._once_key(key), claimed_at=utcnow(), user_id=user_id
                    )
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

    # -- the clerk allowance's daily total -------------------------------------------

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

    def _insert_new(self, table: sa.Table, **values: Any) -> Any:
        """INSERT that does nothing when the row exists (SQLite and PostgreSQL alike)."""
        from sqlalchemy.dialects import postgresql, sqlite

        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(table).values(**values).on_conflict_do_nothing()

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

    # -- confirmations (delete / cancel buttons) -------------------------------------

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

    # -- publication approvals -------------------------------------------------------

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
        note: str | None = None,
        decided_before: dt.datetime | None = None,
    ) -> bool:
        """Change the state atomically if it is one of `only_from`: True for the one winner."""
        query = approvals.update().where(
            approvals.c.id == approval_id, approvals.c.state.in_(only_from), self._mine(approvals)
        )
        if decided_before is not None:
            query = query.where(approvals.c.decided_at < decided_before)
        values: dict[str, Any] = {"state": to, "decided_at": utcnow()}
        if user_id is not None:
            values["decided_by"] = user_id
        if note is not None:
            values["note"] = note
        with self.engine.begin() as conn:
            return conn.execute(query.values(**values)).rowcount == 1

    # -- daily summary ------------------------------------------------------------------

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

    def points_moves_since(self, since: dt.datetime) -> list[tuple[dt.datetime, str, int]]:
        """(when, who, before-to-after delta) of every successful points change since,
        net: a change that was undone and its undo cancel out (both stay in the history)."""
        query = sa.select(
            audit_log.c.at,
            audit_log.c.user_id,
            (audit_log.c.after - audit_log.c.before).label("delta"),
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
        return [(as_utc(at), str(user), int(delta)) for at, user, delta in rows]

    # -- what the records say each balance is (verify) ------------------------------------

    def recorded_balances(self) -> dict[int, RecordedBalance]:
        """For every customer the bot changed: the balance its records say they have (the
        last points change's, or what verify saw since), and whether that change was
        made while fenced or unknown (settled later, or never)."""
        points = [str(a) for a in POINTS_ACTIONS]
        latest = (
            sa.select(sa.func.max(audit_log.c.id).label("id"))
            .where(
                self._mine(audit_log),
                audit_log.c.target_type == "customer",
                audit_log.c.action.in_(points),
                audit_log.c.outcome.in_([Outcome.OK, Outcome.UNKNOWN, Outcome.PENDING]),
            )
            .group_by(audit_log.c.target_id)
            .subquery()
        )
        query = sa.select(
            audit_log.c.target_id,
            audit_log.c.target_name,
            audit_log.c.before,
            audit_log.c.after,
            audit_log.c.outcome,
            audit_log.c.resolved,
            audit_log.c.fence,
            audit_log.c.at,
        ).join(latest, audit_log.c.id == latest.c.id)
        seen_query = sa.select(
            balances_seen.c.customer_id, balances_seen.c.balance, balances_seen.c.seen_at
        ).where(balances_seen.c.team_id == self._team)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            seen = {int(c): (int(b), as_utc(at)) for c, b, at in conn.execute(seen_query)}
        found: dict[int, RecordedBalance] = {}
        for customer, name, before, after, outcome, resolved, fence, at in rows:
            unsure = outcome != Outcome.OK or bool(fence) or resolved == "reconciled"
            balance = after if after is not None else before
            if balance is None:
                continue
            later = seen.get(int(customer))
            if later is not None and later[1] >= as_utc(at):
                balance, unsure = later[0], False  # seen since, and reported then
            found[int(customer)] = RecordedBalance(int(balance), str(name), unsure)
        return found

    def saw_balances(self, balances: dict[int, int], now: dt.datetime) -> None:
        """Remember the live balances verify reported, so each difference is told once."""
        if not balances:
            return
        from sqlalchemy.dialects import postgresql, sqlite

        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        with self.engine.begin() as conn:
            for customer, balance in balances.items():
                insert = dialect.insert(balances_seen).values(
                    team_id=self._team, customer_id=customer, balance=balance, seen_at=now
                )
                conn.execute(
                    insert.on_conflict_do_update(
                        index_elements=["team_id", "customer_id"],
                        set_={"balance": balance, "seen_at": now},
                    )
                )
