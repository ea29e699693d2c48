"""Slack's installations (bot tokens and refresh tokens) and the OAuth flow's states, in
the bot's own database through slack_sdk's SQLAlchemy stores. Their tables are declared
on the bot's metadata, so the migrations (0003, 0005) and the schema check see them too.

Tokens are stored sealed, like each workspace's App Key (`bot.store.sealed`, Fernet with
LOYALTY_ENCRYPTION_KEY): `SealedInstallationStore` seals them on the way in and opens
them on the way out, so the rest of Bolt and slack_sdk never see the difference. Rows
written before sealing are sealed by migration 0005 when the key is in the environment,
else by the first start in the any-workspace mode (`seal_rows`, the same code); `loyalty-bot
rotate-key` re-seals them with the newest key.
"""

from __future__ import annotations

import copy
import logging
from typing import Any, TypeVar

import sqlalchemy as sa
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy.engine import Connection, Engine

from bot.store.schema import metadata
from bot.store.sealed import InvalidToken, KeyBox

__all__ = [
    "SealedInstallationStore",
    "installation_store",
    "metadata",
    "seal_rows",
    "state_store",
]

log = logging.getLogger(__name__)
STATE_SECONDS = 600  # an Add to Slack click must come back within 10 minutes
FERNET_PREFIX = "gAAAAA"  # every Fernet token starts so; Slack's tokens start with "xox"

slack_installations = SQLAlchemyInstallationStore.build_installations_table(
    metadata, SQLAlchemyInstallationStore.default_installations_table_name
)
slack_bots = SQLAlchemyInstallationStore.build_bots_table(
    metadata, SQLAlchemyInstallationStore.default_bots_table_name
)
slack_oauth_states = SQLAlchemyOAuthStateStore.build_oauth_states_table(
    metadata, SQLAlchemyOAuthStateStore.default_table_name
)
# The tokens' columns, sealed: text (a sealed refresh token is longer than 200 characters).
SEALED_COLUMNS = {
    slack_installations: ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token"),
    slack_bots: ("bot_token", "bot_refresh_token"),
}
for _table, _names in SEALED_COLUMNS.items():
    for _name in _names:
        _table.c[_name].type = sa.Text()

Record = TypeVar("Record", Installation, Bot)


def sealed(value: str | None) -> bool:
    return bool(value) and str(value).startswith(FERNET_PREFIX)


class SealedInstallationStore(SQLAlchemyInstallationStore):
    """slack_sdk's store, with every token sealed at rest."""

    def __init__(self, client_id: str, engine: Engine, box: KeyBox) -> None:
        super().__init__(client_id=client_id, engine=engine)
        self.box = box

    def save(self, installation: Installation) -> None:
        super().save(self._sealed(installation, SEALED_COLUMNS[slack_installations]))

    def save_bot(self, bot: Bot) -> None:
        super().save_bot(self._sealed(bot, SEALED_COLUMNS[slack_bots]))

    def find_bot(self, **kwargs: Any) -> Bot | None:
        return self._opened(super().find_bot(**kwargs), SEALED_COLUMNS[slack_bots])

    def find_installation(self, **kwargs: Any) -> Installation | None:
        found = super().find_installation(**kwargs)
        return self._opened(found, SEALED_COLUMNS[slack_installations])

    def _sealed(self, record: Record, names: tuple[str, ...]) -> Record:
        record = copy.copy(record)
        for name in names:
            value = getattr(record, name, None)
            if value and not sealed(value):
                setattr(record, name, self.box.seal(value))
        return record

    def _opened(self, record: Record | None, names: tuple[str, ...]) -> Record | None:
        if record is None:
            return None
        try:
            for name in names:
                value = getattr(record, name, None)
                if isinstance(value, str) and sealed(value):
                    setattr(record, name, self.box.open(value))
        except InvalidToken:
            log.error(
                "the Slack tokens of workspace %s cannot be decrypted with "
                "LOYALTY_ENCRYPTION_KEY (keep old keys after the new one)",
                record.team_id,
            )
            return None
        return record


def seal_rows(conn: Connection, box: KeyBox, *, reseal: bool = False) -> int:
    """Seal every token stored in the clear (and with `reseal`, re-seal sealed ones with
    the newest key): how many values were written."""
    count = 0
    for table, names in SEALED_COLUMNS.items():
        columns = [table.c[name] for name in names]
        for row in conn.execute(sa.select(table.c.id, *columns)).all():
            values: dict[str, str] = {}
            for name, value in zip(names, row[1:], strict=True):
                if not value:
                    continue
                if not sealed(value):
                    values[name] = box.seal(value)
                elif reseal:
                    values[name] = box.reseal(value)
            if values:
                conn.execute(table.update().where(table.c.id == row[0]).values(**values))
                count += len(values)
    return count


def installation_store(engine: Engine, client_id: str, box: KeyBox) -> SealedInstallationStore:
    return SealedInstallationStore(client_id, engine, box)


def state_store(engine: Engine) -> SQLAlchemyOAuthStateStore:
    return SQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine)
