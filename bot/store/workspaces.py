"""Installed in any workspace (OAuth mode): each workspace's program, its App Key (sealed
with `bot.store.sealed.KeyBox`, never stored or logged in the clear) and the settings its
managers chose in the App Home. Slack's own tokens are in slack_sdk's installation tables.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from bot.domain.audit import as_utc, utcnow
from bot.store.schema import (
    approvals,
    audit_log,
    clerk_points,
    confirmations,
    once_keys,
    summary_posts,
    summary_snapshots,
    workspaces,
)
from bot.store.sealed import KeyBox


@dataclass(frozen=True)
class Workspace:
    team_id: str
    program_id: int | None
    sealed_key: str | None = field(repr=False)
    key_last4: str
    connected_by: str
    connected_at: dt.datetime | None
    settings: dict[str, Any]
    updated_at: dt.datetime
    uninstalled_at: dt.datetime | None

    @property
    def connected(self) -> bool:
        return self.program_id is not None and self.sealed_key is not None

    def app_key(self, box: KeyBox) -> SecretStr:
        assert self.sealed_key is not None
        return SecretStr(box.open(self.sealed_key))


def _workspace(row: Any) -> Workspace:
    return Workspace(
        team_id=row.team_id,
        program_id=row.program_id,
        sealed_key=row.app_key,
        key_last4=row.app_key_last4,
        connected_by=row.connected_by,
        connected_at=as_utc(row.connected_at),
        settings=json.loads(row.settings or "{}"),
        updated_at=as_utc(row.updated_at) or utcnow(),
        uninstalled_at=as_utc(row.uninstalled_at),
    )


class WorkspaceRecords:
    def __init__(self, engine: Engine, box: KeyBox) -> None:
        self.engine = engine
        self.box = box

    def get(self, team_id: str) -> Workspace | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(workspaces).where(workspaces.c.team_id == team_id)).first()
        return _workspace(row) if row else None

    def version(self, team_id: str) -> dt.datetime | None:
        """When the workspace's row last changed (cheap: checked often by every process)."""
        with self.engine.connect() as conn:
            value = conn.execute(
                sa.select(workspaces.c.updated_at).where(workspaces.c.team_id == team_id)
            ).scalar()
        return as_utc(value)

    def connected(self) -> list[Workspace]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(workspaces).where(
                    workspaces.c.app_key.is_not(None), workspaces.c.uninstalled_at.is_(None)
                )
            )
            return [_workspace(row) for row in rows]

    def _upsert(self, team_id: str, **values: Any) -> None:
        values["updated_at"] = utcnow()
        with self.engine.begin() as conn:
            changed = conn.execute(
                workspaces.update().where(workspaces.c.team_id == team_id).values(**values)
            ).rowcount
            if not changed:
                conn.execute(workspaces.insert().values(team_id=team_id, **values))

    def installed(self, team_id: str) -> None:
        """Installed (again): a workspace uninstalled before is served again."""
        self._upsert(team_id, uninstalled_at=None)

    def connect(self, team_id: str, *, app_key: str, program_id: int, user_id: str) -> None:
        self._upsert(
            team_id,
            program_id=program_id,
            app_key=self.box.seal(app_key),
            app_key_last4=app_key[-4:],
            connected_by=user_id,
            connected_at=utcnow(),
            uninstalled_at=None,
        )

    def save_settings(self, team_id: str, settings: dict[str, Any]) -> None:
        self._upsert(team_id, settings=json.dumps(settings, sort_keys=True))

    def uninstalled(self, team_id: str) -> None:
        """Forget the workspace's Slack tokens and App Key now; its records stay until the
        retention purge (`purge_uninstalled`)."""
        from bot.store.installations import slack_bots, slack_installations  # OAuth mode's

        with self.engine.begin() as conn:
            for table in (slack_bots, slack_installations):
                conn.execute(table.delete().where(table.c.team_id == team_id))
        self._upsert(team_id, app_key=None, app_key_last4="", uninstalled_at=utcnow())

    def purge_uninstalled(self, before: dt.datetime) -> list[str]:
        """Delete every record of workspaces uninstalled before `before`; their ids."""
        with self.engine.begin() as conn:
            gone = list(
                conn.execute(
                    sa.select(workspaces.c.team_id).where(workspaces.c.uninstalled_at < before)
                ).scalars()
            )
            for team_id in gone:
                for table in (
                    audit_log,
                    approvals,
                    confirmations,
                    clerk_points,
                    summary_posts,
                    summary_snapshots,
                ):
                    conn.execute(table.delete().where(table.c.team_id == team_id))
                conn.execute(once_keys.delete().where(once_keys.c.key.startswith(f"{team_id}:")))
                conn.execute(workspaces.delete().where(workspaces.c.team_id == team_id))
        return gone

    def reseal_all(self) -> int:
        """Re-encrypt every App Key with the newest key (after a new one is put first)."""
        count = 0
        with self.engine.begin() as conn:
            rows = conn.execute(
                sa.select(workspaces.c.team_id, workspaces.c.app_key).where(
                    workspaces.c.app_key.is_not(None)
                )
            ).all()
            for team_id, sealed in rows:
                conn.execute(
                    workspaces.update()
                    .where(workspaces.c.team_id == team_id)
                    .values(app_key=self.box.reseal(sealed))
                )
                count += 1
        return count
