"""Who a workspace's request is for, in OAuth mode, without asking Slack before its ack."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_sdk.oauth.installation_store import Installation, InstallationStore


class StoredAuthorize(InstallationStoreAuthorize):
    """Bolt's authorize, with its answers cached per token, where a token's first answer
    comes from the installation Bolt has just read (the bot's token, ids and scopes,
    saved when it was installed: Bolt's OAuth flow asked auth.test then) rather than from
    Slack's auth.test, which Bolt asks before that request's ack: once per workspace in
    each process. A token rotated as it is read, or an installation stored without the
    bot's ids, is asked about as Bolt asks."""

    def __init__(self, *, installation_store: InstallationStore, **kwargs: Any) -> None:
        super().__init__(
            # Bolt reads the store through it (its methods by name): the same store.
            installation_store=cast(InstallationStore, _Learning(installation_store, self._learn)),
            cache_enabled=True,
            **kwargs,
        )

    def _learn(self, found: Installation | None) -> None:
        if found is None or not (found.bot_token and found.bot_id and found.bot_user_id):
            return
        if found.bot_token in self.authorize_result_cache:
            return
        self.authorize_result_cache[found.bot_token] = AuthorizeResult(
            enterprise_id=found.enterprise_id,
            team_id=found.team_id,
            team=found.team_name,
            bot_id=found.bot_id,
            bot_user_id=found.bot_user_id,
            bot_token=found.bot_token,
            bot_scopes=found.bot_scopes,
        )


class _Learning:
    """The installation store, telling `learn` each installation Bolt reads from it."""

    def __init__(
        self, store: InstallationStore, learn: Callable[[Installation | None], None]
    ) -> None:
        self._store, self._learn = store, learn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def find_installation(self, **kwargs: Any) -> Installation | None:
        found: Installation | None = self._store.find_installation(**kwargs)
        self._learn(found)
        return found
