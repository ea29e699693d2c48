"""Turning what was typed into one record: one resolver per kind, a `<customer>` (an id,
email, phone, name or Slack mention) and an `<offer>` (an id or name). Each answers with
the one record meant, or the several that match (the caller offers a choice, in a message
or inside a modal, and nothing is changed yet); when nothing matches it says so."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from bot.domain.amounts import parse_amount
from bot.domain.errors import CustomerNotFound, InvalidInput, StillLooking
from bot.domain.say import N_, Command, Name, Person, Say, noun
from bot.i18n import decimal_mark, language, speaking
from bot.slack import blocks
from bot.slack.text import mrkdwn
from bot.smartpasses.models import Customer, Offer
from handlers.context import Env
from handlers.errors import reply_with_error
from handlers.parsing import ARTICLES, MENTION_TOKEN, PREPOSITIONS, TO_WHOM, plain_words
from handlers.slackapi import SLACK_FAILED, SlackApiError

R = TypeVar("R", Customer, Offer)
_MENTION = re.compile(r"<@[UW][A-Z0-9]+>")  # anywhere in a reference
SLACK_SILENT = N_("Slack did not answer in time")
KNOWN_ID = re.compile(r"^#(\d{1,18})$")  # `#1870`: the bot's own way of naming a record


@dataclass(frozen=True)
class Resolved(Generic[R]):
    query: str  # what was looked up (a mention, as the email it stands for)
    matches: Sequence[R] = field(default_factory=list)  # never empty

    @property
    def one(self) -> R | None:
        return self.matches[0] if len(self.matches) == 1 else None


# How long a person waits for the bot to look past its list (a GET, a fresh read of the
# list) before being told it is looking, and answered when it has.
PATIENCE_SECONDS = 0.8


def customer(env: Env, reference: str, *, within: float | None = None) -> Resolved[Customer]:
    """CustomerNotFound when nothing matches; StillLooking past `within` seconds."""
    reference = reference.strip()
    if not reference:
        raise InvalidInput(Say("Which customer? Give an id, email, phone, name or @mention."))
    mention = MENTION_TOKEN.match(reference)
    if mention is None and _MENTION.search(reference):  # `@ana @juan`, `@ana perez`
        raise InvalidInput(
            Say(
                "One customer at a time: an @mention alone, or their name, email or phone. "
                "Nothing was changed."
            )
        )
    query = (
        mention_email(env, mention.group(1)) if mention else _without_preposition(env, reference)
    )
    result = env.service.find_customers(query, within=within)
    if result.matches:
        return Resolved(query, result.matches)
    if known := KNOWN_ID.match(query):  # written by the bot (a card, a choice): read it
        return Resolved(query, [env.service.customer(int(known.group(1)))])
    raise env.service.not_found(query)


def _after_preposition(words: str) -> str:
    """`de juan` -> `juan`; "" if the words do not start with a preposition."""
    first, _, rest = words.strip().partition(" ")
    return rest.strip() if first.casefold() in PREPOSITIONS else ""


# `ana's points`, `juan's card`: the customer, and what of theirs was meant.
_POSSESSIVE = re.compile(
    r"^(?P<whose>.+?)['’]s?(?:\s+(?:points?|pts|card|balance|account|pass))?$", re.IGNORECASE
)


def _without_preposition(env: Env, reference: str) -> str:
    """`de juan` is juan, and `ana's points` ana, when the list as loaded names nobody so
    but someone `juan` (a surname that starts with De, or O'Brien, is still found whole):
    never waited for."""
    rest = _after_preposition(reference)
    possessive = _POSSESSIVE.match(rest or reference)
    if possessive is not None:
        rest = possessive.group("whose").strip()
    if not rest or env.service.names_someone(reference) or not env.service.names_someone(rest):
        return reference
    return rest


def offer(env: Env, reference: str) -> Resolved[Offer]:
    """InvalidInput when nothing matches."""
    if known := KNOWN_ID.match(reference.strip()):  # written by the bot: one read
        return Resolved(reference, [env.service.offer(int(known.group(1)))])
    matches = env.service.find_offers(reference)
    if not matches:
        raise InvalidInput(
            Say(
                "No offer matches “{reference}”. {offers} lists them.",
                reference=Name(reference),
                offers=Command("offers"),
            )
        )
    return Resolved(reference, matches)


def search_words(env: Env, text: str) -> str:
    """What a search looks for: the text, or for an @mention alone the person's email
    (as a lookup reads one), never the mention's `<@U…>`."""
    mention = MENTION_TOKEN.fullmatch(text.strip())
    return mention_email(env, mention.group(1)) if mention else text


def mention_email(env: Env, user_id: str) -> str:
    try:
        response = env.client.users_info(user=user_id)
    except SLACK_FAILED as exc:
        raise InvalidInput(
            Say(
                "I could not read {person}'s Slack profile ({error}). Use the customer's "
                "email, phone or name instead.",
                person=Person(user_id),
                error=str(exc.response.get("error"))
                if isinstance(exc, SlackApiError)
                else noun(SLACK_SILENT),
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


# -- in a message: several matches become Choose buttons that carry the command on ----


def customer_or_choice(env: Env, reference: str, command: str, rest: str = "") -> Customer | None:
    """The one customer meant, or None after offering a choice (nothing is changed then).
    `command` and `rest` let a picked customer carry on the same operation. If looking
    past the list takes long, the person is told so at once and offered the choice when
    the answer comes."""
    try:
        found = customer(env, reference, within=PATIENCE_SECONDS)
    except StillLooking as looking:
        env.reply(blocks.notice(mrkdwn(looking.say)))
        _choice_later(env, looking, command, rest)
        return None
    except CustomerNotFound:
        if not _spelled_choice(env, reference, command, rest):
            raise
        return None
    if found.one is None:
        env.reply(blocks.customer_picker(found.query, found.matches, command, rest))
    return found.one


def _choice_later(env: Env, looking: StillLooking, command: str, rest: str) -> None:
    """When the look past the list ends: the customers it found, each with a Choose that
    carries the command on, or that nobody matches."""
    lang = language()

    def answer(later: Future[Any]) -> None:
        with speaking(lang):
            try:
                result = later.result()
                if result is None or not result.matches:
                    if _spelled_choice(env, looking.query, command, rest):
                        return
                    raise env.service.not_found(looking.query)
                env.reply(blocks.customer_picker(looking.query, result.matches, command, rest))
            except Exception as error:  # the one error reply, as for any work
                reply_with_error(error, env)

    env.service.when_found(looking.later, answer)


def _spelled_choice(env: Env, reference: str, command: str, rest: str) -> bool:
    """Nobody matches `reference`: offer, with Choose buttons, the customers it names as
    the list spells names (`jaun` -> Juan Pérez), if any. True if it did."""
    near = env.service.near_customers(reference)
    if near is None:
        return False
    env.reply(blocks.customer_picker(reference, near.matches, command, rest, spelled=True))
    return True


def reward_or_choice(env: Env, reference: str, customer: Customer) -> Offer | None:
    """The offer to redeem for `customer`; or a choice among those that match, or, when
    none does (`free coffee` for Café Gratis), among the rewards they can redeem."""
    command = f"redeem #{customer.id}"
    try:
        return offer_or_choice(env, reference, command)
    except InvalidInput:
        rewards = env.service.redeemable(customer)
        if not rewards:
            raise
    env.reply(blocks.offer_picker(reference, rewards, command, spelled=True))
    return None


def offer_or_choice(env: Env, reference: str, command: str) -> Offer | None:
    found = offer(env, reference)
    if found.one is None:
        env.reply(blocks.offer_picker(found.query, found.matches, command))
    return found.one


# -- where a customer's words end, in a command that has no amount among them ---------


def amount_meant(env: Env, words: str, names_someone: Callable[[str], bool]) -> None:
    """`points <words>` with no amount among them: if they name no customer but a start
    of them does, the word after it was meant as the amount (`ana diez`): InvalidInput
    says why it is not one. Else they are all the customer (`juan perez`, or someone the
    list predates): the form asks how much. `names_someone`: the list as loaded, never
    waited for, before the form opens (its trigger expires seconds after the command);
    a fresh list once it is open (the list may not have been loaded before)."""
    after = _after_preposition(words)  # `puntos de juan`: not "de", then an amount
    if names_someone(words) or (after and names_someone(after)):
        return
    tokens = words.split(" ")
    for end in range(len(tokens) - 1, 0, -1):
        if names_someone(" ".join(tokens[:end])):
            parse_amount(tokens[end], env.settings.loyalty_max_points, decimal_mark())
            return


def named_in_a_fresh_list(env: Env) -> Callable[[str], bool]:
    return lambda words: bool(env.service.find_customers(words, in_the_list=True).matches)


def customer_and_offer(env: Env, tokens: list[str]) -> tuple[str, str]:
    """`<customer> <offer>`: the customer is the first word, unless a longer start names
    a customer and the rest still names an offer (`Ana García Café Gratis`), or all the
    words name a customer (`Juan Pérez`: no offer, "" for it). Said the
    other way round (`el café a ana`, `coffee for ana`), the offer before a word for "to"
    and the customer after it, when the list names the customer."""
    first = tokens[0]
    if len(tokens) > 2 and plain_words(first):
        offers = env.service.offers()
        for at in range(1, len(tokens) - 1):  # `<offer> a <customer>`
            if tokens[at].casefold() in TO_WHOM:
                words = tokens[:at]
                offer = " ".join(words[1:] if words[0].casefold() in ARTICLES else words)
                reference = " ".join(tokens[at + 1 :])
                named = env.service.find_customers(reference, in_the_list=True).matches
                if offer and named:  # the offer's own lookup says if none is called so
                    return reference, offer
        for i in range(len(tokens) - 1, 1, -1):
            reference, rest = " ".join(tokens[:i]), " ".join(tokens[i:])
            named = env.service.find_customers(reference, in_the_list=True).matches
            if named and env.service.find_offers(rest, offers):
                return reference, rest
    whole = " ".join(tokens)  # `redeem juan perez`: no offer named yet
    if (
        len(tokens) > 1
        and plain_words(whole)
        and env.service.find_customers(whole, in_the_list=True).matches
    ):
        return whole, ""
    return first, " ".join(tokens[1:])
