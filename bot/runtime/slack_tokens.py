"""Installed workspaces' rotating bot tokens: refreshed once, and before a request waits.

With token rotation, a workspace's bot token expires every 12 hours and is refreshed with
a refresh token that Slack revokes as it is used. So two refreshes of one token must never
both reach Slack (the second is refused, and Bolt then answers that the bot is not
installed), and whoever refreshes must save the whole installation: Bolt reads the
installation, not the bot's record, and would refresh again with the revoked token.

`FreshInstallations` is the installation store every reader goes through (Bolt's
authorize, the clock, the Home tab's listeners). A token is refreshed under its
workspace's lock (bot.store.locks: across threads and processes), from the installation
as stored at that moment, and saved whole. The serving process refreshes every token
SWEEP_AHEAD_MINUTES before it expires (`refresh_expiring`, on its minute sweep), so a
request's ack never waits on oauth.v2.access; a token found within REQUEST_AHEAD_MINUTES
of its expiry (Bolt's own margin: the sweep could not reach Slack) is refreshed as it is
read. A refresh that fails leaves the token as it was: it still works until it expires.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.token_rotation import TokenRotator

from bot.domain.errors import Busy
from bot.domain.logs import hide
from bot.store.locks import ChangeLocks

if TYPE_CHECKING:  # not imported by one workspace's bot: it brings SQLAlchemy's ORM
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

log = logging.getLogger(__name__)

REQUEST_AHEAD_MINUTES = 120  # as Bolt refreshes: a token this close is refreshed when read
SWEEP_AHEAD_MINUTES = 180  # the serving process's sweep, every minute: well before that
REFRESH_WAIT_SECONDS = 10.0  # a token that no longer works waits for another's refresh
# Slack's answer to a refresh is waited for longer than other calls: given up on, a refresh
# Slack applied would leave its refresh token spent and the new token unknown.
REFRESH_TIMEOUT_SECONDS = 15
REVOKED = ("invalid_refresh_token", "invalid_grant")  # Slack's answers to a used one
_NOT_REFRESHED = (
    "the Slack token of workspace %s could not be refreshed (%s); it is used until it "
    "expires, and refreshed on the next try"
)


class FreshInstallations(InstallationStore):
    """The bot's installation store, handing out each installation with its token fresh."""

    def __init__(
        self,
        store: SQLAlchemyInstallationStore,
        rotator: TokenRotator,
        locks: ChangeLocks,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self._rotator, self._locks, self._clock = store, rotator, locks, clock

    @property
    def logger(self) -> logging.Logger:
        return log

    def save(self, installation: Installation) -> None:
        self.store.save(installation)

    def save_bot(self, bot: Bot) -> None:
        self.store.save_bot(bot)

    def find_bot(self, **kwargs: Any) -> Bot | None:
        return self.store.find_bot(**kwargs)

    def delete_bot(self, **kwargs: Any) -> None:
        self.store.delete_bot(**kwargs)

    def delete_installation(self, **kwargs: Any) -> None:
        self.store.delete_installation(**kwargs)

    def delete_all(self, **kwargs: Any) -> None:
        self.store.delete_all(**kwargs)

    def find_installation(self, **kwargs: Any) -> Installation | None:
        found = self.store.find_installation(**kwargs)
        if kwargs.get("user_id") is not None:  # a person's own installation: no bot token
            return found
        return self._fresh(found, REQUEST_AHEAD_MINUTES)

    def refresh_expiring(self, minutes: int = SWEEP_AHEAD_MINUTES) -> int:
        """Refresh every token that expires within `minutes`; how many were refreshed."""
        table = self.store.installations
        due = (
            sa.select(table.c.enterprise_id, table.c.team_id, table.c.is_enterprise_install)
            .where(
                table.c.client_id == self.store.client_id,
                table.c.bot_refresh_token.is_not(None),
                table.c.bot_token_expires_at < _naive_utc(self._clock() + minutes * 60),
            )
            .distinct()
        )
        with self.store.engine.connect() as conn:
            workspaces = conn.execute(due).all()
        refreshed = 0
        for enterprise_id, team_id, is_enterprise_install in workspaces:
            latest = self.store.find_installation(
                enterprise_id=enterprise_id,
                team_id=team_id,
                is_enterprise_install=is_enterprise_install,
            )
            if latest is not None and self._fresh(latest, minutes) is not latest:
                refreshed += 1
        return refreshed

    def _expiring(self, installation: Installation, minutes: int) -> bool:
        expires_at = installation.bot_token_expires_at
        return bool(
            installation.bot_refresh_token
            and expires_at is not None
            and expires_at <= self._clock() + minutes * 60
        )

    def _fresh(self, found: Installation | None, minutes: int) -> Installation | None:
        """`found`, or the installation as refreshed (by this process or another one).
        While its token still works, nobody waits for another's refresh of it."""
        if found is None or not self._expiring(found, minutes):
            return found
        works = (found.bot_token_expires_at or 0) > self._clock() + 60
        try:
            with self._locks.hold(_lock_key(found), wait=0 if works else REFRESH_WAIT_SECONDS):
                latest = self._latest(found)
                if latest is None or not self._expiring(latest, minutes):
                    return latest  # refreshed meanwhile (or uninstalled)
                refreshed = self._rotator.perform_token_rotation(
                    installation=latest, minutes_before_expiration=minutes
                )
                if refreshed is None:
                    return latest
                hide(refreshed.bot_token or "")
                self.store.save(refreshed)
                return refreshed
        except Busy:  # being refreshed by another thread or process
            return found
        except SlackTokenRotationError as exc:
            why = str(exc.api_error.response.get("error", ""))
            if why in REVOKED:  # used already: by a refresh whose answer never came back
                log.error(
                    "Slack no longer accepts the refresh token of workspace %s (%s): its bot "
                    "token works until it expires, then the bot must be added to Slack "
                    "there again (/slack/install)",
                    found.team_id,
                    why,
                )
            else:
                log.warning(_NOT_REFRESHED, found.team_id, why)
            return found
        except OSError as exc:
            log.warning(_NOT_REFRESHED, found.team_id, type(exc).__name__)
            return found

    def _latest(self, found: Installation) -> Installation | None:
        """The installation as stored now. Where the bot's record holds a newer token
        (refreshed by an earlier version of the bot, which saved only that record), the
        installation takes it: its own refresh token was revoked by that refresh."""
        where: dict[str, Any] = {
            "enterprise_id": found.enterprise_id,
            "team_id": found.team_id,
            "is_enterprise_install": found.is_enterprise_install,
        }
        latest = self.store.find_installation(**where)
        bot = self.store.find_bot(**where)
        if (
            latest is None
            or bot is None
            or bot.bot_token == latest.bot_token
            or (bot.bot_token_expires_at or 0) <= (latest.bot_token_expires_at or 0)
        ):
            return latest
        latest.bot_token = bot.bot_token
        latest.bot_refresh_token = bot.bot_refresh_token
        latest.bot_token_expires_at = bot.bot_token_expires_at
        self.store.save(latest)
        return latest


def _lock_key(installation: Installation) -> str:
    return f"slack-token:{installation.enterprise_id or ''}:{installation.team_id or ''}"


def _naive_utc(epoch: float) -> dt.datetime:
    """As slack_sdk's store keeps times (naive UTC)."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).replace(tzinfo=None)
