"""The one error handler: every known error becomes a clear ephemeral message; anything
else gets a short reference id that is also in the log. Never a traceback in Slack."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from slack_bolt import BoltResponse, Respond
from slack_sdk import WebClient
from sqlalchemy.exc import SQLAlchemyError

from bot.core.errors import LoyaltyError
from bot.slack.text import mrkdwn
from handlers.observe import observing

log = logging.getLogger("loyalty.errors")


def user_message(error: Exception) -> str:
    if isinstance(error, LoyaltyError):
        return mrkdwn(error.say)
    reference = secrets.token_hex(3).upper()
    log.error("unexpected error, reference %s", reference, exc_info=error)
    if isinstance(error, SQLAlchemyError):
        return (
            f"Sorry, I cannot reach my records right now (reference `{reference}`). Try "
            "again in a few minutes; if it lasts, tell whoever runs the bot."
        )
    return (
        f"Sorry, something went wrong on my side (reference `{reference}`). If you were "
        "changing something, check it (`/loyalty history`, or the customer's or offer's "
        "card) before trying again. If it happens again, give that reference to whoever "
        "runs the bot."
    )


def reply_with_error(
    error: Exception, body: dict[str, Any], client: WebClient, respond: Any | None
) -> None:
    """Tell the person what went wrong, ephemerally; never raises."""
    try:
        _reply(error, body, client, respond)
    except Exception:  # the reply itself failed: the log is all we have left
        log.exception("could not tell the user about an error")


def _reply(error: Exception, body: dict[str, Any], client: WebClient, respond: Any | None) -> None:
    text = "⚠️ " + user_message(error)
    if isinstance(error, LoyaltyError):
        log.info("refused or failed: %s: %s", type(error).__name__, error.message)
    user = body.get("user_id") or (body.get("user") or {}).get("id")
    if respond is not None:
        respond(text=text, response_type="ephemeral", replace_original=False)
    elif user:
        # No response_url (e.g. a modal submission): tell the person in a DM from the bot.
        from handlers.context import send_dm

        send_dm(client, user, text)


def register(app: observing) -> None:
    @app.error
    def handle_error(
        error: Exception, body: dict[str, Any], client: WebClient, respond: Respond | None = None
    ) -> BoltResponse:
        reply_with_error(error, body, client, respond)
        return BoltResponse(status=200, body="")
