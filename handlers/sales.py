"""`/loyalty sale` (Spanish `venta`), `/loyalty promos` and the promotions' buttons and
form, and the Record a sale step's work: Slack glue over bot.core.sales."""

from __future__ import annotations

import functools
import re
from decimal import Decimal
from typing import Any

from slack_bolt import Ack, App

from bot.core import validation as forms
from bot.domain.amounts import AMOUNT_LIKE, AmbiguousAmount
from bot.domain.audit import Action, AuditEntry
from bot.domain.earning import Promotion
from bot.domain.errors import InvalidInput
from bot.domain.money import (
    before_currency,
    in_another_currency,
    names_currency,
    other_currency,
    parse_money,
    without_currency,
)
from bot.domain.policy import Act
from bot.domain.say import N_, Code, Name, Say
from bot.domain.text_keys import fold
from bot.i18n import decimal_mark, locale_name
from bot.slack import blocks, views
from bot.slack.blocks import Message
from bot.slack.ids import ActionId, Form, FormContext, PromotionRef
from handlers import modals, resolve
from handlers.command_help import said, usage_of
from handlers.context import Env
from handlers.parsing import amount_first, split_reference, unit_apart
from handlers.subcommand import Typed

# The words after `promos`, in both languages: what to do with which promotion.
PROMO_ACTIONS = {
    "new": "new",
    "nueva": "new",
    "nuevo": "new",
    "pause": Action.PROMOTION_PAUSE,
    "pausar": Action.PROMOTION_PAUSE,
    "resume": Action.PROMOTION_RESUME,
    "reanudar": Action.PROMOTION_RESUME,
    "end": Action.PROMOTION_END,
    "terminar": Action.PROMOTION_END,
}


# The words people type for a sale: `vendí 250 a ana`, `cobré 250 a ana`, `charged ana $80`.
SALE_WORDS: tuple[str, ...] = ("vende", "vender", "vendí", "vendi", "compra", "compró")
SALE_WORDS += ("compro", "cobré", "cobre", "cobrar", "cobra", "charge", "charged")


def _currency(env: Env) -> str:
    rule = env.settings.earning_rule
    return rule.currency if rule else env.settings.loyalty_currency


def read_money(env: Env, text: str | None) -> Decimal:
    """A sale's amount as the reader writes money (asked when it reads two ways)."""
    return parse_money(text, locale_name(), decimal_mark(), _currency(env))


_OF = frozenset({"de", "of", "por", "for"})  # `venta de 250 …`, `sale of 250 …`


def read_sale(env: Env, args: list[str]) -> Typed:
    """`<customer> <amount> [note]`: `$250` is read as 250, and the currency named
    apart before or after the amount (`$ 250`, `MXN 250`, `250 pesos`) is neither the
    customer nor the note."""
    tokens = [t[1:] if t.startswith("$") and t[1:2].isdigit() else t for t in args]
    currency = _currency(env)
    _refuse_another_currency(tokens, currency)
    is_currency = functools.partial(names_currency, currency=currency)
    tokens = unit_apart(tokens, is_currency)  # 250mxn
    if len(tokens) > 2 and tokens[0].casefold() in _OF and AMOUNT_LIKE.match(tokens[1]):
        tokens = tokens[1:]  # `venta de 250 a ana`
    tokens = amount_first(tokens, is_currency)
    if (
        len(tokens) > 1
        and AMOUNT_LIKE.match(tokens[0])
        and not any(map(AMOUNT_LIKE.match, tokens[1:]))
    ):
        tokens = [*tokens[1:], tokens[0]]  # `compró 250 juan perez`: no other amount
    reference, amount, note = split_reference(tokens, env.settings.loyalty_default_region)
    reference = before_currency(reference, currency)
    if not reference:
        raise InvalidInput(Say("Usage: {usage}, e.g. {example}.", **usage_of("sale")))
    if amount is None or not any(map(AMOUNT_LIKE.match, tokens)):  # `venta juan perez`
        raise InvalidInput(
            Say("How much was the sale? Usage: {usage}, e.g. {example}.", **usage_of("sale"))
        )
    money = read_money(env, amount)
    note = without_currency(note, currency)
    if problem := forms.reason_problem(note):
        raise InvalidInput(Say("{problem} Nothing was changed.", problem=problem))
    rest = " ".join(x for x in (amount, note) if x)
    return Typed(tuple(args), reference=reference, money=money, reason=note, rest=rest)


# An amount with a sign or word joined on either side: `€250`, `250€`, `US$250`.
_SIGNED_AMOUNT = re.compile(r"([^\d\s]*)(\d[\d.,]*)([^\d\s]*)")


def _refuse_another_currency(tokens: list[str], currency: str) -> None:
    """InvalidInput if the amount is said in another currency than the shop's (`250 USD`,
    `dólares 250`, `€250`): never read as the shop's money, nor as a customer or note."""
    for i, token in enumerate(tokens):
        joined = _SIGNED_AMOUNT.fullmatch(token)
        if joined and any(other_currency(s, currency) for s in (joined[1], joined[3]) if s):
            raise InvalidInput(in_another_currency(token, currency))
        if other_currency(token, currency):
            beside = [j for j in (i + 1, i - 1) if 0 <= j < len(tokens)]
            amount = next((j for j in beside if AMOUNT_LIKE.match(tokens[j])), None)
            if amount is not None:
                said = tokens[min(i, amount) : max(i, amount) + 1]
                raise InvalidInput(in_another_currency(" ".join(said), currency))


def run_sale(env: Env, typed: Typed) -> None:
    if env.service.earning is None:
        env.reply(no_rule(env))
        return
    customer = resolve.customer_or_choice(env, typed.reference, "sale", typed.rest)
    if customer is None or typed.money is None:
        return
    result = env.service.record_sale(env.actor, customer.id, typed.money, typed.reason)
    env.reply(blocks.sale_recorded(result, undo_minutes=env.settings.loyalty_undo_minutes))
    env.announce(result.points.entry)


def no_rule(env: Env) -> Message:
    return blocks.no_earning_rule(env.settings.distributed, env.allows(Act.MANAGE_PROMOTIONS))


# -- promotions ------------------------------------------------------------------------


def read_promos(env: Env, args: list[str]) -> Typed:
    """`promos`, `promos new`, `promos pause|resume|end <id or name>` (Spanish words too)."""
    if not args:
        return Typed()
    action = PROMO_ACTIONS.get(args[0].casefold())
    target = " ".join(args[1:]).strip().removeprefix("#")
    if action is None or (action != "new" and not target):
        raise InvalidInput(Say("Usage: {usage}.", usage=usage_of("promos", 1)["usage"]))
    return Typed(tuple(args), action=str(action), reference=target)


def _promotion_named(env: Env, reference: str) -> int:
    """The id of the promotion `reference` is (its id, or its name or a start of each of
    its words, as the list shows them): few run at once, so it is looked for among them."""
    if reference.isdigit():
        return int(reference)
    running = env.service.promotions()
    typed = fold(reference).split()
    named = [p for p in running if fold(p.name).split() == typed] or [
        p
        for p in running
        if all(any(word.startswith(t) for word in fold(p.name).split()) for t in typed)
    ]
    if len(named) == 1:
        return named[0].id
    if not named:
        raise InvalidInput(
            Say(
                "No promotion is called “{name}”; {promos} lists them, with their buttons. "
                "Nothing was changed.",
                name=Name(reference),
                promos=said(N_("promos")),
            )
        )
    raise InvalidInput(
        Say(
            "Several promotions match “{name}”: {which}. Give its id. Nothing was changed.",
            name=Name(reference),
            which=Name(", ".join(f"{p.name} ({p.id})" for p in named)),
        )
    )


def opens_promo_form(typed: Typed) -> bool:
    return typed.action == "new"


def changes_promo(typed: Typed) -> bool:
    return typed.action not in ("", "new")


def run_promos(env: Env, typed: Typed) -> None:
    if typed.action == "new":
        env.service.permit(env.actor, Act.MANAGE_PROMOTIONS)  # refused before it opens
        context = FormContext(form=Form.PROMOTION, channel_id=env.channel_id)
        env.client.views_open(trigger_id=env.trigger_id, view=views.promotion_form(context))
        return
    if typed.action:
        promotion_id = _promotion_named(env, typed.reference)
        entry = env.service.change_promotion(env.actor, promotion_id, Action(typed.action))
        env.reply(_changed(entry))
        env.announce(entry)
        return
    env.reply(
        blocks.promotion_list(
            env.service.promotions(),
            env.service.earning,
            env.allows(Act.MANAGE_PROMOTIONS),
        )
    )


def _changed(entry: AuditEntry) -> Message:
    promotion = Promotion.from_record(entry.changes["promotion"][1], entry.target_id or 0)
    return blocks.promotion_changed(
        blocks.promotion_said(entry.action, entry.target_name), promotion
    )


def _create(env: Env, context: FormContext, promotion: Promotion) -> AuditEntry:
    entry = env.service.add_promotion(env.actor, promotion)
    env.announce(entry)
    return entry


PROMOTION_SUBMISSION = modals.Submission(
    forms.Field.PROMO_NAME,
    lambda env, values: forms.read_promotion_form(values, decimal_mark()),
    _create,
    lambda env, context, entry: _changed(entry),
)


# -- the Record a sale step --------------------------------------------------------------


def sale_inputs(env: Env, inputs: dict[str, Any]) -> tuple[Decimal, str]:
    """The Record a sale step's amount and note, checked before anything is looked up."""
    if env.service.earning is None:
        raise InvalidInput(Say("Sales do not earn points yet: a manager sets the earning rule."))
    amount = " ".join(str(inputs.get("amount") or "").split())
    if not amount:
        raise InvalidInput(Say("How much was the sale? Give the step an amount, like 250.00."))
    note = " ".join(str(inputs.get("note") or "").split())
    if problem := forms.reason_problem(note):
        raise InvalidInput(Say("{problem} Nothing was changed.", problem=problem))
    try:
        return read_money(env, amount), note
    except AmbiguousAmount as asked:  # a workflow cannot be asked which it meant
        if len(asked.readings) == 1:  # `120,50`: written the other way round
            raise InvalidInput(
                Say(
                    "“{amount}” is not written the way I read amounts; give the step the "
                    "amount with a decimal point and no thousands mark, like {reading}.",
                    amount=Name(amount),
                    reading=Code(str(asked.readings[0])),
                )
            ) from None
        raise InvalidInput(
            Say(
                "“{amount}” can be read two ways; give the step the amount with a decimal "
                "point and no thousands mark, like 1500 or 1.50.",
                amount=Name(amount),
            )
        ) from None


def register(app: App) -> None:
    import re

    from handlers.commands import run_subcommand

    @app.action(ActionId.PROMO_NEW)
    def new_promotion(ack: Ack, env: Env) -> None:
        ack()
        run_subcommand(env, "promos", ["new"])

    buttons = {
        ActionId.PROMO_PAUSE: "pause",
        ActionId.PROMO_RESUME: "resume",
        ActionId.PROMO_END: "end",
    }
    pattern = re.compile("^(" + "|".join(buttons) + r")_\d+$")

    @app.action(pattern)
    def promotion_button(ack: Ack, env: Env, body: dict[str, Any]) -> None:
        ack()
        clicked = (body.get("actions") or [{}])[0]
        match = pattern.match(clicked.get("action_id", ""))
        assert match is not None  # Bolt matched it
        ref = PromotionRef.decode(clicked.get("value"))
        run_subcommand(env, "promos", [buttons[ActionId(match.group(1))], str(ref.promotion_id)])

    modals.on_submit(app, Form.PROMOTION, PROMOTION_SUBMISSION)
