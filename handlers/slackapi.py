"""What a failed call to Slack's Web API looks like, whatever failed: Slack's own error
answer (`SlackApiError`), or no answer at all (a timeout, a refused or dropped
connection, a garbled response). Calls made while a person waits catch all of these and
say what happened; none of them is a bug of ours."""

from __future__ import annotations

import logging
from http.client import HTTPException
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.domain.errors import LoyaltyError

log = logging.getLogger(__name__)

__all__ = [
    "SLACK_FAILED",
    "SLACK_UNANSWERED",
    "SlackApiError",
    "SlackUnreachable",
    "name_of",
    "why",
]

SLACK_FAILED = (SlackClientError, OSError, HTTPException)
# Of those, the ones that only a call over the network raises (a full disk or a missing
# file is an OSError too, and never Slack's doing).
SLACK_UNANSWERED = (SlackClientError, HTTPException, URLError, TimeoutError, ConnectionError)


def why(error: BaseException) -> str:
    """A few words for the log: Slack's error code, or what happened to the call."""
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or "error")
    if isinstance(error, TimeoutError) or "timed out" in str(error):
        return "no answer in time"
    return type(error).__name__


class SlackUnreachable(LoyaltyError):
    """Slack did not answer a call the work needed; the Say tells what was not done."""


def name_of(client: WebClient, user_id: str) -> str | None:
    """A person's name as Slack shows it (their display name, else their full name), for
    text that cannot mention them; None when Slack does not say (logged)."""
    try:
        user = client.users_info(user=user_id)["user"] or {}
    except SLACK_FAILED as exc:
        log.info("could not look up the name of %s: %s", user_id, why(exc))
        return None
    profile = user.get("profile") or {}
    name = profile.get("display_name") or profile.get("real_name") or user.get("real_name")
    return str(name) if name else None
