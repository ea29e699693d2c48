"""What a person is told when something fails: every known error becomes a clear
ephemeral message; anything else gets a short reference id that is also in the log. Never
a traceback in Slack. (The error handler that calls this is in `handlers.middleware`.)"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from bot.domain.errors import LoyaltyError
from bot.i18n import _
from bot.slack.text import mrkdwn
from handlers.slackapi import SLACK_UNANSWERED

if TYPE_CHECKING:
    from handlers.context import Env

log = logging.getLogger("loyalty.errors")


def user_message(error: Exception) -> str:
    if isinstance(error, LoyaltyError):
        return mrkdwn(error.say)
    reference = secrets.token_hex(3).upper()
    log.error("unexpected error, reference %s", reference, exc_info=error)
    if isinstance(error, SLACK_UNANSWERED):
        return _(
            "Sorry, Slack did not answer me in time (reference `{reference}`). If you were "
            "changing something, check it (`/loyalty {history}`, or the customer's or offer's "
            "card) before trying again."
        ).format(reference=reference, history=_("history"))
    if isinstance(error, SQLAlchemyError):
        return _(
            "Sorry, I cannot reach my records right now (reference `{reference}`). Try again "
            "in a few minutes; if it lasts, tell whoever runs the bot."
        ).format(reference=reference)
    return _(
        "Sorry, something went wrong on my side (reference `{reference}`). If you were "
        "changing something, check it (`/loyalty {history}`, or the customer's or offer's "
        "card) before trying again. If it happens again, give that reference to whoever runs "
        "the bot."
    ).format(reference=reference, history=_("history"))


def reply_with_error(error: Exception, env: Env) -> None:
    """Tell the person what went wrong, ephemerally (a DM after a form); never raises."""
    try:
        text = "⚠️ " + user_message(error)
        if isinstance(error, LoyaltyError):
            log.info("refused or failed: %s: %s", type(error).__name__, error.message)
        if env.respond is not None:
            env.respond(text=text, response_type="ephemeral", replace_original=False)
        elif env.user_id:
            env.send_dm(text)
    except Exception:  # the reply itself failed: the log is all we have left
        log.exception("could not tell the user about an error")
