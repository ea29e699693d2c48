"""Global middleware, after Bolt has verified a request: it must come from this bot's own
workspace, from one of its own people, or nothing runs. (Size, signature and shape are
checked before Bolt, in `handlers.gate`.)

A request from another workspace or enterprise is refused and logged: in single-workspace
mode the bot serves the workspace its token belongs to (auth.test, at start or on the
first request). So is a person of another organization acting in a Slack Connect channel
shared with the shop (the payload's `user.team_id`, or an event's `user_team`, is not the
workspace's): everyone in the workspace may look customers up, and that must not include
another company's staff.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

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
        person = person_team(req.body)
        if person and person.startswith("T") and person != (ours or theirs):
            log.warning(
                "refused a request from a person of another organization (Slack Connect): "
                "user %s of team %s, in workspace %s",
                context.user_id,
                person,
                ours or theirs,
            )
            return BoltResponse(status=403, body="")
        return next()


def person_team(body: dict[str, Any]) -> str:
    """The workspace of the person acting, when the payload says (interactions: its
    `user.team_id`; events: `event.user_team`)."""
    user = body.get("user")
    if isinstance(user, dict) and isinstance(user.get("team_id"), str):
        return str(user["team_id"])
    event = body.get("event")
    if isinstance(event, dict) and isinstance(event.get("user_team"), str):
        return str(event["user_team"])
    return ""


def register(app: App, team_id: str | None = None) -> None:
    """`team_id`: this workspace, when known at start (else from Bolt's auth.test)."""
    app.middleware(SameWorkspace(team_id))
