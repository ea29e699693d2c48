"""Turning a `<customer>` reference (or a Slack mention) into one customer."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.core.errors import CustomerNotFound, InvalidInput
from bot.slack import blocks
from bot.smartpasses.models import Customer
from handlers.context import Env
from handlers.parsing import MENTION_TOKEN


def mention_email(env: Env, user_id: str) -> str:
    try:
        response = env.client.users_info(user=user_id)
    except SlackApiError as exc:
        raise InvalidInput(
            f"I could not read <@{user_id}>'s Slack profile ({exc.response.get('error')}). "
            "Use the customer's email, phone or name instead."
        ) from None
    email = ((response.get("user") or {}).get("profile") or {}).get("email") or ""
    if not email:
        raise InvalidInput(
            f"<@{user_id}> has no email in their Slack profile that I can see, so I cannot "
            "match them to a customer. Use the customer's email, phone or name instead."
        )
    return email


def resolve_customer(env: Env, reference: str, command: str, rest: str = "") -> Customer | None:
    """The one customer meant, or None after offering a choice (nothing is changed then).

    `command` and `rest` let a picked customer carry on the same operation.
    """
    if not reference.strip():
        raise InvalidInput("Which customer? Give an id, email, phone, name or @mention.")
    mention = MENTION_TOKEN.match(reference.strip())
    query = mention_email(env, mention.group(1)) if mention else reference
    result = env.service.find_customers(query)
    if result.found:
        return result.found
    if not result.matches:
        raise CustomerNotFound(query.strip('"'))
    env.reply(blocks.customer_picker(query, result.matches, command, rest))
    return None
