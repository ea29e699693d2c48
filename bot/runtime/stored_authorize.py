"""Who a workspace's request is for, in OAuth mode, without asking Slack before its ack."""

from __future__ import annotations

import threading
from typing import Any

from slack_bolt import BoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import InstallationStoreAuthorize


class StoredAuthorize(InstallationStoreAuthorize):
    """Bolt's authorize, with its answers cached per token, where each workspace's first
    answer in a process comes from what its installation stored (the bot's token, ids and
    scopes, saved when it was installed: Bolt's OAuth flow asked auth.test then) rather
    than from Slack's auth.test, asked before that request's ack. A token rotated since,
    or an installation stored without the bot's ids, is asked about as Bolt asks."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs, cache_enabled=True)
        self._seen: set[tuple[str | None, str | None]] = set()  # workspaces looked up
        self._seeing = threading.Lock()

    def __call__(
        self,
        *,
        context: BoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **actor: Any,
    ) -> AuthorizeResult | None:
        self._learn(context, enterprise_id, team_id)
        return super().__call__(
            context=context, enterprise_id=enterprise_id, team_id=team_id, user_id=user_id, **actor
        )

    def _learn(self, context: BoltContext, enterprise_id: str | None, team_id: str | None) -> None:
        """The workspace's answer from its installation, the first time it is asked (a
        store that cannot be read now is left to Bolt's own lookup, and asked again)."""
        workspace = (enterprise_id, team_id)
        with self._seeing:
            if workspace in self._seen:
                return
        try:
            found = self.installation_store.find_installation(
                enterprise_id=enterprise_id,
                team_id=team_id,
                is_enterprise_install=context.is_enterprise_install,
            )
        except Exception:  # the store's own error, whichever: Bolt looks again and says
            return
        with self._seeing:
            self._seen.add(workspace)
        if found is None or not (found.bot_token and found.bot_id and found.bot_user_id):
            return
        self.authorize_result_cache.setdefault(
            found.bot_token,
            AuthorizeResult(
                enterprise_id=found.enterprise_id,
                team_id=found.team_id,
                team=found.team_name,
                bot_id=found.bot_id,
                bot_user_id=found.bot_user_id,
                bot_token=found.bot_token,
                bot_scopes=found.bot_scopes,
            ),
        )
