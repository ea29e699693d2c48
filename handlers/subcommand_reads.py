"""How each subcommand reads what was typed: once, before the ack, with no I/O, into a
Typed request; a mistake is refused with its usage line (InvalidInput)."""

from __future__ import annotations

import re

from bot.core.index.search import exact_reference
from bot.core.validation import reason_problem
from bot.domain.amounts import AMOUNT_LIKE, is_points_unit, parse_amount
from bot.domain.errors import InvalidInput
from bot.domain.phones import to_e164
from bot.domain.say import N_, Command, Name, Say
from bot.domain.text_keys import fold
from bot.i18n import decimal_mark
from handlers.command_help import said, usage_of
from handlers.context import Env
from handlers.parsing import (
    amount_first,
    join_phone,
    joined_sign,
    plain_words,
    split_reference,
    unit_apart,
    without_unit,
)
from handlers.subcommand import TOP_WORDS, Typed, action_said

CUSTOMER_ACTIONS = ("new", "edit", "delete")
# Our words, translated: Babel does not find an N_() inside a Say(...)'s arguments.
CUSTOMER_NEW = N_("customer new")


OFFER_ACTIONS = ("new", "edit", "delete", "cancel", "publish")


# The words people type for a customer's card: `saldo 1870`, `ver ana`, `checa a juan`.
CARD_WORDS: tuple[str, ...] = ("balance", "saldo", "show", "view", "info", "ver", "mostrar")
CARD_WORDS += ("muestra", "lookup")
CARD_WORDS += ("check", "checar", "checa", "consulta", "consultar", "revisa", "revisar")


# Everyone at once, as said (no customer is called so): `all`, `todos los clientes`.
_EVERYONE = re.compile(
    r"(?:to\s+|a\s+)?(?:all(?:\s+(?:the\s+)?customers)?|everyone|everybody"
    r"|tod[oa]s(?:\s+los\s+clientes)?|todo\s+el\s+mundo)",
    re.IGNORECASE,
)


def read_points(env: Env, args: list[str]) -> Typed:
    """`<customer> <amount> [reason]` (national phone numbers read in the shop's region; a
    sign typed apart, `= 100`, or as a verb, `quitar 5`, joins its number);
    AmbiguousAmount (asked with a button per reading) for `1.000`."""
    reference, amount, reason = split_reference(
        joined_sign(amount_first(unit_apart(args, is_points_unit))),
        env.settings.loyalty_default_region,
    )
    if not reference:
        raise InvalidInput(Say("Usage: {usage}, e.g. {example}.", **usage_of("points")))
    if _EVERYONE.fullmatch(reference.strip()):  # `give 5 points to everyone`
        raise InvalidInput(
            Say(
                "I change one customer's points at a time: there is no change for everyone. "
                "Nothing was changed."
            )
        )
    if amount is not None and not AMOUNT_LIKE.match(amount) and plain_words(reference):
        # No amount among the words: a name of several words (`juan perez`: the form
        # asks how much), unless a start of them names a customer and the word after it
        # was meant as the amount (`ana diez`): told after the ack, from the list.
        whole = " ".join(x for x in (reference, amount, reason) if x)
        return Typed(tuple(args), reference=whole, amount_unread=True)
    change = None  # no amount: the points form asks for it
    if amount is not None:
        change = parse_amount(amount, env.settings.loyalty_max_points, decimal_mark())
        reason = without_unit(reason)
    if problem := reason_problem(reason):
        raise InvalidInput(Say("{problem} Nothing was changed.", problem=problem))
    rest = " ".join(x for x in (amount or "", reason) if x)
    return Typed(tuple(args), reference=reference, change=change, reason=reason, rest=rest)


def read_redeem(env: Env, args: list[str]) -> Typed:
    """`<customer> [offer]`: where the customer ends is found after the ack (a lookup)."""
    if not args:
        raise InvalidInput(
            Say("Which customer? Usage: {usage}, e.g. {example}.", **usage_of("redeem"))
        )
    tokens = join_phone(args, env.settings.loyalty_default_region)
    return Typed(tuple(tokens), reference=tokens[0] if len(tokens) == 1 else "")


def read_customer(env: Env, args: list[str]) -> Typed:
    if not args:
        raise InvalidInput(
            Say(
                "Which customer? Usage: {usage}, or {new}.",
                usage=usage_of("customer")["usage"],
                new=said(CUSTOMER_NEW),
            )
        )
    action = args[0].lower() if args[0].lower() in CUSTOMER_ACTIONS else ""
    if action in ("edit", "delete") and len(args) < 2:
        raise InvalidInput(
            Say("Which customer? Usage: {usage}.", usage=usage_of("customer", 1)["usage"])
        )
    if action != "new":
        _one_reference(action, args[1:] if action else args, env)
    return Typed(tuple(args), action=action, reference=" ".join(args[1:] if action else args))


CUSTOMER = N_("customer")  # our word, translated (a constant: see HISTORY)


def _one_reference(action: str, words: list[str], env: Env) -> None:
    """`customer 1870 30` would look for a customer called “1870 30” and find none, while
    1870 exists: an id (of four digits or more), email or phone number with more words
    after it is asked about at once."""
    region, whole = env.settings.loyalty_default_region, " ".join(words)
    one = exact_reference(whole)
    if len(words) < 2 or (one and (one != "phone" or to_e164(whole, region))):
        return  # one reference (a phone typed in groups); `55 5000 1111 10` is asked about
    tokens = join_phone(words, region)
    kind = exact_reference(tokens[0])
    exact = kind in ("email", "phone") or (kind == "id" and len(tokens[0].lstrip("#")) >= 4)
    if exact and len(tokens) > 1:
        raise InvalidInput(
            Say(
                "Did you mean {command}? An id, email or phone number names a customer by "
                "itself, so “{rest}” after it is not part of one.",
                command=Command(CUSTOMER, f"{action_said('customer', action)} {tokens[0]}".strip()),
                rest=Name(" ".join(tokens[1:])),
            )
        )


def read_offer(env: Env, args: list[str]) -> Typed:
    if not args:
        raise InvalidInput(
            Say(
                "Which offer? Usage: {usage}, or {new}.",
                usage=usage_of("offer")["usage"],
                new=said(N_("offer new")),
            )
        )
    action = args[0].lower() if args[0].lower() in OFFER_ACTIONS else ""
    if action in ("edit", "delete", "cancel", "publish") and len(args) < 2:
        raise InvalidInput(
            Say(
                "Which offer? Usage: {usage} (its id or name).",
                usage=usage_of("offer", 2 if action == "publish" else 1)["usage"],
            )
        )
    return Typed(tuple(args), action=action, reference=" ".join(args[1:] if action else args))


def read_customers(env: Env, args: list[str]) -> Typed:
    """A search, or `top` (`mejores`) with how many if given: `customers top 5`."""
    text = " ".join(args)
    if args and len(args) <= 2 and fold(args[0]) in TOP_WORDS:
        count = args[1] if len(args) == 2 else "0"
        if count.isascii() and count.isdigit() and len(count) <= 6:
            return Typed(tuple(args), reference=text, by_points=True, count=int(count))
    return Typed(tuple(args), reference=text)


def read_offers(env: Env, args: list[str]) -> Typed:
    if len(args) > 1:
        raise InvalidInput(Say("Usage: {usage}.", usage=usage_of("offers")["usage"]))
    return Typed(tuple(args), action=args[0] if args else "")


HISTORY, EXPORT_HISTORY = N_("history"), N_("export history")  # our words, translated


def read_history(env: Env, args: list[str]) -> Typed:
    """`<customer>`. A number of days after an id or email (`1870 30`, as the export
    takes it) is said at once, not looked up as one customer ("no customer matches
    “1870 30”"). Not after a mention: the export command it names would show its raw
    `<@U…>` (a mention with more words is told one customer at a time)."""
    if not args:
        usage = said(N_("history <customer>"))
        raise InvalidInput(Say("Which customer? Usage: {usage}.", usage=usage))
    first, days = args[0], args[-1]
    kind = exact_reference(first)
    exact = kind == "email" or (kind == "id" and len(first.lstrip("#")) >= 4)
    if len(args) == 2 and exact and days.isdigit() and len(days) <= 3:
        raise InvalidInput(
            Say(
                "{history} shows a customer's latest changes and takes no number of days. "
                "The last {days} days in a file: {export}.",
                history=Command(HISTORY),
                days=int(days),
                export=Command(EXPORT_HISTORY, f"{first} {days}"),
            )
        )
    return Typed(tuple(args), reference=" ".join(args))


def opens_record_form(typed: Typed) -> bool:
    return typed.action in ("new", "edit")
