"""`/loyalty <subcommand> ...`: one root command, one table of subcommands (help comes from it)."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from slack_bolt import Ack, App

from bot.core.service import CONFIRMABLE, CUSTOMER_DELETE, OFFER_CANCEL, OFFER_DELETE
from bot.core.validation import reason_problem
from bot.domain.amounts import AmbiguousAmount, Op, parse_amount
from bot.domain.errors import InvalidInput, MalformedRequest
from bot.domain.policy import Act
from bot.domain.say import N_, Code, Say
from bot.i18n import _, decimal_mark, language, number
from bot.slack import blocks
from bot.slack.ids import Form
from bot.slack.text import mrkdwn
from handlers import approvals, confirmations, modals, resolve
from handlers.context import Env
from handlers.parsing import join_phone, split_reference, tokenize

COMMAND = "/loyalty"


class Usage(NamedTuple):
    """One line of help: a form of use, what it does, examples."""

    usage: str
    summary: str
    examples: tuple[str, ...]


@dataclass(frozen=True)
class Subcommand:
    name: str
    es: str  # the word in Spanish (both are always understood; help shows the reader's)
    brief: str  # its line in the short help (a msgid: shown in the reader's language)
    usages: tuple[Usage, ...]
    run: Callable[[Env, list[str]], None]
    # Checks what was typed, with no I/O, before the ack; raises InvalidInput.
    check: Callable[[Env, list[str]], None] | None = None
    aliases: tuple[str, ...] = ()
    # True when these arguments open a modal (which needs the request's fresh trigger_id).
    opens_form: Callable[[Env, list[str]], bool] = lambda env, args: False
    # True when these arguments change something: the command then acts once (its
    # trigger_id is claimed), however often the same request arrives.
    changes: Callable[[Env, list[str]], bool] = lambda env, args: False


# -- the subcommands ------------------------------------------------------------


def _words(env: Env, args: list[str]) -> tuple[str, str | None, str]:
    """`<customer> <amount> [reason]` (national phone numbers read in the shop's region)."""
    return split_reference(args, env.settings.loyalty_default_region)


def _joined(env: Env, args: list[str]) -> list[str]:
    """The words, with a phone number typed in groups as one."""
    return join_phone(args, env.settings.loyalty_default_region)


def _help(env: Env, args: list[str]) -> None:
    if not args:
        env.reply(help_message())
        return
    wanted = args[0].lower().removeprefix("/loyalty")
    row = _BY_NAME.get(wanted)
    if row is None:
        env.reply(blocks.notice(unknown(wanted)))
        return
    env.reply(help_detail(row))


def _check_points(env: Env, args: list[str]) -> None:
    """AmbiguousAmount (asked with a button per reading) for `1.000`."""
    reference, amount, reason = _words(env, args)
    if not reference:
        raise InvalidInput(Say("Usage: {usage}, e.g. {example}.", **usage_of("points")))
    if amount is not None:  # no amount: the points form asks for it
        parse_amount(amount, env.settings.loyalty_max_points, decimal_mark())
    if problem := reason_problem(reason):
        raise InvalidInput(Say("{problem} Nothing was changed.", problem=problem))


def _points(env: Env, args: list[str]) -> None:
    reference, amount, reason = _words(env, args)
    change = None if amount is None else parse_amount(amount, env.settings.loyalty_max_points)
    # The act refused is the one asked for: adding, or deducting / setting.
    env.require(Act.ADD_POINTS if change is None or change.op is Op.ADD else Act.CHANGE_POINTS)
    if change is None:
        modals.open_customer_form(env, Form.POINTS, reference)
        return
    rest = " ".join(x for x in (amount or "", reason) if x)
    customer = resolve.customer_or_choice(env, reference, "points", rest)
    if customer is None:
        return
    result = env.service.change_points(env.actor, customer.id, change, reason)
    env.reply(blocks.points_changed(result, undo_minutes=env.settings.loyalty_undo_minutes))
    env.announce(result.entry)


def _redeem(env: Env, args: list[str]) -> None:
    env.require(Act.REDEEM)
    tokens = _joined(env, args)
    if len(tokens) == 1:  # no offer: the form lists the rewards
        modals.open_customer_form(env, Form.REDEEM, tokens[0])
        return
    reference, offer_reference = _customer_and_offer(env, tokens)
    customer = resolve.customer_or_choice(env, reference, "redeem", offer_reference)
    if customer is None:
        return
    offer = resolve.offer_or_choice(env, offer_reference, f"redeem #{customer.id}")
    if offer is None:
        return
    result = env.service.redeem(env.actor, customer.id, offer.id)
    env.reply(blocks.redeemed(result, undo_minutes=env.undo_minutes(Act.UNDO_ANY_CHANGE)))
    env.announce(result.entry)


def _customer_and_offer(env: Env, tokens: list[str]) -> tuple[str, str]:
    """`<customer> <offer>`: the customer is the first word, unless a longer start names
    a customer and the rest still names an offer (`Ana García Café Gratis`)."""
    first = tokens[0]
    if len(tokens) > 2 and not first.startswith(("#", '"', "<@", "+")) and "@" not in first:
        offers = env.service.offers()
        for i in range(len(tokens) - 1, 1, -1):
            reference, rest = " ".join(tokens[:i]), " ".join(tokens[i:])
            if env.service.find_customers(reference).matches and env.service.find_offers(
                rest, offers
            ):
                return reference, rest
    return first, " ".join(tokens[1:])


def _check_redeem(env: Env, args: list[str]) -> None:
    if not args:
        raise InvalidInput(
            Say("Which customer? Usage: {usage}, e.g. {example}.", **usage_of("redeem"))
        )


def _customer(env: Env, args: list[str]) -> None:
    action, rest = (args[0].lower(), args[1:]) if args else ("", [])
    if action == "new":
        modals.open_new_customer(env)
    elif action == "edit":
        modals.open_customer_form(env, Form.CUSTOMER, " ".join(rest))
    elif action == "delete":
        customer = resolve.customer_or_choice(env, " ".join(rest), "customer delete")
        if customer is not None:
            confirmations.ask(env, CUSTOMER_DELETE, customer.id)
    else:
        customer = resolve.customer_or_choice(env, " ".join(args), "customer")
        if customer is not None:
            env.reply(blocks.customer_card(env.service.customer(customer.id), env.allows))


def _check_customer(env: Env, args: list[str]) -> None:
    if not args:
        raise InvalidInput(
            Say(
                "Which customer? Usage: {usage}, or {new}.",
                usage=usage_of("customer")["usage"],
                new=said(N_("customer new")),
            )
        )
    if args[0].lower() in ("edit", "delete") and len(args) < 2:
        raise InvalidInput(
            Say("Which customer? Usage: {usage}.", usage=usage_of("customer", 1)["usage"])
        )


def _opens_record_form(env: Env, args: list[str]) -> bool:
    return bool(args) and args[0].lower() in ("new", "edit")


def _offer(env: Env, args: list[str]) -> None:
    action, rest = args[0].lower(), args[1:]
    reference = " ".join(rest)
    if action == "new":
        modals.open_new_offer(env)
    elif action == "edit":
        modals.open_offer_form(env, reference)
    elif action in ("delete", "cancel"):
        kind = OFFER_DELETE if action == "delete" else OFFER_CANCEL
        env.require(CONFIRMABLE[kind])
        offer = resolve.offer_or_choice(env, reference, f"offer {action}")
        if offer is not None:
            confirmations.ask(env, kind, offer.id)
    elif action == "publish":
        offer = resolve.offer_or_choice(env, reference, "offer publish")
        if offer is not None:
            approvals.request_publication(env, offer.id)
    else:
        offer = resolve.offer_or_choice(env, " ".join(args), "offer")
        if offer is not None:
            env.reply(blocks.offer_card(offer, env.allows))


def _check_offer(env: Env, args: list[str]) -> None:
    if not args:
        raise InvalidInput(
            Say(
                "Which offer? Usage: {usage}, or {new}.",
                usage=usage_of("offer")["usage"],
                new=said(N_("offer new")),
            )
        )
    if args[0].lower() in ("edit", "delete", "cancel", "publish") and len(args) < 2:
        raise InvalidInput(
            Say(
                "Which offer? Usage: {usage} (its id or name).",
                usage=usage_of("offer", 2 if args[0].lower() == "publish" else 1)["usage"],
            )
        )


def _customers(env: Env, args: list[str]) -> None:
    env.reply(blocks.customer_list(env.service.customers_page(" ".join(args))))


def _offers(env: Env, args: list[str]) -> None:
    status = args[0] if args else None
    env.reply(blocks.offer_list(env.service.offers(status), status))  # page 1


def _check_offers(env: Env, args: list[str]) -> None:
    if len(args) > 1:
        raise InvalidInput(Say("Usage: {usage}.", usage=usage_of("offers")["usage"]))


def _history(env: Env, args: list[str]) -> None:
    customer = resolve.customer_or_choice(env, " ".join(args), "history")
    if customer is not None:
        show_history(env, customer.id)


def show_history(env: Env, customer_id: int) -> None:
    customer = env.service.customer(customer_id)
    entries = env.service.history(customer_id)
    env.reply(blocks.history(customer, entries, env.settings.tz))


def _undo(env: Env, args: list[str]) -> None:
    result = env.service.undo_last(env.actor)
    env.reply(blocks.undone(result))
    env.announce(result.entry)


def _requires_reference(usage: str) -> Callable[[Env, list[str]], None]:
    def check(env: Env, args: list[str]) -> None:
        if not args:
            raise InvalidInput(Say("Which customer? Usage: {usage}.", usage=said(usage)))

    return check


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand(
        "points",
        "puntos",
        N_("add, deduct or set a customer's points"),
        (
            Usage(
                N_("points <customer> <amount> [reason]"),
                N_(
                    "Change a customer's points: `10` or `+10` adds, `-5` deducts, `=25` sets. "
                    "Managers; clerks may add within the clerk allowance."
                ),
                (
                    N_("points juan.perez@example.com 10 birthday"),
                    N_("points @juan -5"),
                    N_('points "Ana García" =30'),
                ),
            ),
            Usage(
                N_("points <customer>"),
                N_("Without an amount: a form to add, deduct or set points with a reason."),
                (N_("points 1870"),),
            ),
        ),
        _points,
        _check_points,
        opens_form=lambda env, args: _words(env, args)[1] is None,
        changes=lambda env, args: _words(env, args)[1] is not None,
    ),
    Subcommand(
        "redeem",
        "canjear",
        N_("redeem a reward: its points cost is deducted"),
        (
            Usage(
                N_("redeem <customer> [offer]"),
                N_(
                    "Redeem a Published offer for a customer: its cost is deducted from their "
                    "points. Without an offer: a form lists the rewards they can afford first."
                ),
                (N_("redeem ana.garcia@example.com Café Gratis"), N_("redeem 1870")),
            ),
        ),
        _redeem,
        _check_redeem,
        opens_form=lambda env, args: len(_joined(env, args)) == 1,
        changes=lambda env, args: len(_joined(env, args)) > 1,
    ),
    Subcommand(
        "customer",
        "cliente",
        N_("a customer's card; create, edit or delete one"),
        (
            Usage(
                N_("customer <customer>"),
                N_(
                    "Show a customer's card: name, email, phone, points, id, and buttons to act on it."
                ),
                (N_("customer +52 999 411 6533"), N_("customer 1870")),
            ),
            Usage(
                N_("customer new | edit <customer> | delete <customer>"),
                N_(
                    "Create a customer in a form, edit one, or delete one (managers, after "
                    "confirming)."
                ),
                (N_("customer new"), N_("customer edit juan.perez@example.com")),
            ),
        ),
        _customer,
        _check_customer,
        opens_form=_opens_record_form,
    ),
    Subcommand(
        "customers",
        "clientes",
        N_("list or search customers (or `top` by points)"),
        (
            Usage(
                N_("customers [search]"),
                N_("List customers (name, points, id), optionally only those matching a search."),
                (N_("customers"), N_("customers perez")),
            ),
        ),
        _customers,
        aliases=(N_("list"), N_("search")),
    ),
    Subcommand(
        "offer",
        "oferta",
        N_("an offer's card; draft, edit, publish, cancel"),
        (
            Usage(
                N_("offer <offer>"),
                N_("Show an offer's card (by id or name) with buttons to act on it."),
                (N_("offer Café Gratis"), N_("offer 5001")),
            ),
            Usage(
                N_("offer new | edit <offer> | delete <offer> | cancel <offer>"),
                N_(
                    "Draft an offer in a form, edit one, delete a draft or cancel a published one "
                    "(delete and cancel: managers, after confirming)."
                ),
                (N_("offer new"), N_("offer cancel Café Gratis")),
            ),
            Usage(
                N_("offer publish <offer>"),
                N_(
                    "Ask a manager to approve publishing a Draft offer to every customer's pass; "
                    "the request is posted in the approvals channel."
                ),
                (N_("offer publish Pan dulce"),),
            ),
        ),
        _offer,
        _check_offer,
        opens_form=_opens_record_form,
        changes=lambda env, args: bool(args) and args[0].lower() == N_("publish"),
    ),
    Subcommand(
        "approvals",
        "aprobaciones",
        N_("offers waiting for publication approval"),
        (
            Usage(
                N_("approvals"),
                N_("The offers waiting for publication approval, with links to their requests."),
                (N_("approvals"),),
            ),
        ),
        lambda env, args: approvals.list_approvals(env),
    ),
    Subcommand(
        "offers",
        "ofertas",
        N_("list offers by status"),
        (
            Usage(
                N_("offers [draft|published|canceled]"),
                N_("List offers with their cost, auto-claim and status."),
                (N_("offers"), N_("offers published")),
            ),
        ),
        _offers,
        _check_offers,
    ),
    Subcommand(
        "history",
        "historial",
        N_("a customer's recent changes: who, when, why"),
        (
            Usage(
                N_("history <customer>"),
                N_("The recent changes made through the bot to a customer: who, when, what, why."),
                (N_("history juan.perez@example.com"),),
            ),
        ),
        _history,
        _requires_reference(N_("history <customer>")),
    ),
    Subcommand(
        "undo",
        "deshacer",
        N_("revert your last points change"),
        (
            Usage(
                N_("undo"),
                N_(
                    "Revert your own most recent points change, if it is recent and nothing "
                    "changed since (clerks: their own last add)."
                ),
                (N_("undo"),),
            ),
        ),
        _undo,
        changes=lambda env, args: True,
    ),
    Subcommand(
        "summary",
        "resumen",
        N_("today's program summary"),
        (
            Usage(
                N_("summary"),
                N_(
                    "Today's program summary: customers, points, top customers, staff, offers, trend."
                ),
                (N_("summary"),),
            ),
        ),
        lambda env, args: env.reply(
            blocks.summary_message(env.services.summary.get(), env.settings.tz)
        ),
    ),
    Subcommand(
        "help",
        "ayuda",
        N_("what I can do; `help <subcommand>` for details"),
        (
            Usage(N_("help"), N_("What I can do, one line each."), (N_("help"),)),
            Usage(
                N_("help <subcommand>"),
                N_("The details and examples of one."),
                (N_("help points"),),
            ),
        ),
        _help,
    ),
)

_BY_NAME: dict[str, Subcommand] = {
    name: row for row in SUBCOMMANDS for name in (row.name, row.es, *row.aliases)
}
# The words after `customer`, `offer` and `offers`, in Spanish too.
_ACTION_WORDS = {
    "nuevo": "new",
    "nueva": "new",
    "editar": "edit",
    "borrar": "delete",
    "eliminar": "delete",
    "publicar": "publish",
    "cancelar": "cancel",
    "borrador": "draft",
    "borradores": "draft",
    "publicada": "published",
    "publicadas": "published",
    "cancelada": "canceled",
    "canceladas": "canceled",
}


def _canonical(row: Subcommand | None, args: list[str]) -> list[str]:
    """`oferta nueva` is `offer new`: the first word after the subcommand, in English."""
    takes_words = row is not None and row.name in ("customer", "offer", "offers")
    if takes_words and args and args[0].lower() in _ACTION_WORDS:
        return [_ACTION_WORDS[args[0].lower()], *args[1:]]
    return args


def word(row: Subcommand) -> str:
    """The subcommand as the reader says it."""
    return row.es if language() == "es" else row.name


def said(words: str) -> Code:
    """A command of ours (a msgid: `customer new`), as the reader types it."""
    return Code("/loyalty " + _(words))


def usage_of(name: str, which: int = 0) -> dict[str, Code]:
    """A subcommand's form of use (and its first example), from the table and in the
    reader's words: for the messages that say how to use it."""
    usage = _BY_NAME[name].usages[which]
    found = {"usage": said(usage.usage)}
    if usage.examples:
        found["example"] = said(usage.examples[0])
    return found


def help_message() -> blocks.Message:
    """The short help: one line per subcommand, fits on one screen."""
    return blocks.help_message([(word(row), _(row.brief)) for row in SUBCOMMANDS])


def help_detail(row: Subcommand) -> blocks.Message:
    """`help <subcommand>`, in the reader's words."""
    usages = [Usage(_(u.usage), _(u.summary), tuple(map(_, u.examples))) for u in row.usages]
    takes_customer = any("<customer>" in u.usage for u in row.usages)
    return blocks.help_detail(word(row), usages, names_customers=takes_customer)


def unknown(name: str) -> str:
    """One line for a subcommand we do not have, with the nearest one we do."""
    near = difflib.get_close_matches(name, list(_BY_NAME), n=1, cutoff=0.6)
    if near:
        return mrkdwn(
            Say(
                "I don't know {typed}. Did you mean {near}? {help} lists the rest.",
                typed=Code(name),
                near=Code(word(_BY_NAME[near[0]])),
                help=Code("/loyalty " + word(_BY_NAME["help"])),
            )
        )
    return mrkdwn(
        Say(
            "I don't know {typed}. {help} lists what I can do.",
            typed=Code(name),
            help=Code("/loyalty " + word(_BY_NAME["help"])),
        )
    )


def _amount_choice(row: Subcommand, args: list[str], asked: AmbiguousAmount) -> blocks.Message:
    """The command again with each reading of its amount in place of what was typed."""
    typed = " ".join(args)
    choices = [
        (
            f"{asked.sign}{number(n)}",
            f"{row.name} " + typed.replace(asked.text, f"{asked.sign}{n}", 1),
        )
        for n in asked.readings
    ]
    return blocks.amount_choice(asked.say, choices)


def run_subcommand(env: Env, command: str, args: list[str], *, once: str = "") -> None:
    """Run after the ack. `command` may carry words of its own: ("offer cancel", ["#5001"]).

    The API work goes to the work pool; a subcommand that opens a form runs right here
    instead, because the trigger_id it needs expires about 3 s after the click. One that
    changes something claims `once` (by default the command's trigger_id) before acting."""
    name, *leading = command.split() or [""]
    subcommand = _BY_NAME.get(name)
    full = _canonical(subcommand, [*leading, *args])
    if subcommand is None:  # a button whose value names no command of ours
        raise MalformedRequest(N_("choice"))
    if subcommand.opens_form(env, full):
        env.speak_their_language()
        subcommand.run(env, full)
        return
    changes = subcommand.changes(env, full)
    if changes and not once and env.trigger_id:
        once = f"command:{env.trigger_id}"
    env.defer(lambda: subcommand.run(env, full), once=once if changes else "")


# -- registration --------------------------------------------------------------


def register(app: App) -> None:
    @app.command(COMMAND)
    def loyalty(ack: Ack, env: Env, body: dict[str, Any]) -> None:
        tokens = tokenize(body.get("text", ""))
        name, args = (tokens[0].lower(), tokens[1:]) if tokens else ("help", [])
        subcommand = _BY_NAME.get(name)
        if subcommand is None:
            env.note("invalid")
            ack(response_type="ephemeral", text=unknown(name))
            return
        args = _canonical(subcommand, args)
        if subcommand.check is not None:
            try:
                subcommand.check(env, args)
            except AmbiguousAmount as exc:  # asked, never guessed: one button per reading
                env.note("invalid")
                ack(response_type="ephemeral", **_amount_choice(subcommand, args, exc).kwargs())
                return
            except InvalidInput as exc:
                env.note("invalid")
                ack(response_type="ephemeral", text=mrkdwn(exc.say))
                return
        ack()
        run_subcommand(env, name, args)
