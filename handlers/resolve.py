"""Turning a reference into one record: a `<customer>` (or a Slack mention) or an `<offer>`.
When several match, the person is offered a choice and nothing is changed yet."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.core.errors import CustomerNotFound, InvalidInput
from bot.core.say import Code, Name, Person, Say
from bot.slack import blocks
from bot.smartpasses.models import Customer, Offer
from handlers.context import Env
from handlers.parsing import MENTION_TOKEN


def mention_email(env: Env, user_id: str) -> str:
    try:
        response = env.client.users_info(user=user_id)
    except SlackApiError as exc:
        raise InvalidInput(
            Say(
                "I could not read {person}'s Slack profile ({error}). Use the customer's "
                "email, phone or name instead.",
                person=Person(user_id),
                error=str(exc.response.get("error")),
            )
        ) from None
    email = ((response.get("user") or {}).get("profile") or {}).get("email") or ""
    if not email:
        raise InvalidInput(
            Say(
                "{person} has no email in their Slack profile that I can see, so I cannot "
                "match them to a customer. Use the customer's email, phone or name instead.",
                person=Person(user_id),
            )
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


def no_offer_matches(reference: str) -> Say:
    return Say(
        "No offer matches “{reference}”. {offers} lists them.",
        reference=Name(reference),
        offers=Code("/loyalty offers"),
    )


def resolve_offer(env: Env, reference: str, command: str) -> Offer | None:
    matches = env.service.find_offers(reference)
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise InvalidInput(no_offer_matches(reference))
    env.reply(blocks.offer_picker(reference, matches, command))
    return None
