"""Global middleware, after Bolt has verified a request: it must come from this bot's own
workspace, or nothing runs. (Size, signature and shape are checked before Bolt, in
`bot.gate`.)

A request from another workspace or enterprise is refused and logged: in single-workspace
mode the bot serves the workspace its token belongs to (auth.test, at start or on the
first request).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

log = logging.getLogger("loyalty.guards")


class SameWorkspace(Middleware):
    """Refuses (403) a request from any workspace or enterprise but this one."""

    def __init__(self, team_id: str | None) -> None:
        self.team_id = team_id

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        context = req.context
        authorized = context.authorize_result
        ours = self.team_id or (authorized.team_id if authorized else None)
        our_enterprise = authorized.enterprise_id if authorized else None
        theirs, their_enterprise = context.team_id, context.enterprise_id
        if (ours and theirs and theirs != ours) or (
            our_enterprise and their_enterprise and their_enterprise != our_enterprise
        ):
            log.warning(
                "refused a request from another workspace: team %s, enterprise %s",
                theirs,
                their_enterprise,
            )
            return BoltResponse(status=403, body="")
        return next()


def register(app: App, team_id: str | None = None) -> None:
    """`team_id`: this workspace, when known at start (else from Bolt's auth.test)."""
    app.middleware(SameWorkspace(team_id))
