"""The subcommands of `/loyalty`: how each reads what was typed (once, before the ack) and
what it does after the ack; the table (bot's one list of them, help comes from it).

Role checks are the services': a handler never asks the policy itself."""

from __future__ import annotations

import functools

from bot.core.service import CUSTOMER_DELETE, OFFER_CANCEL, OFFER_DELETE
from bot.domain.policy import Act
from bot.domain.say import N_
from bot.slack import blocks
from bot.slack.ids import Form
from handlers import approvals, confirmations, modals, resolve
from handlers.context import Env
from handlers.exports import export, read_export
from handlers.parsing import DEDUCT_VERBS, MORE_ADD_VERBS, SET_VERBS
from handlers.sales import (
    SALE_WORDS,
    changes_promo,
    opens_promo_form,
    read_promos,
    read_sale,
    run_promos,
    run_sale,
)
from handlers.subcommand import Subcommand, Typed, Usage, table
from handlers.subcommand_reads import (
    CARD_WORDS,
    opens_record_form,
    read_customer,
    read_customers,
    read_history,
    read_offer,
    read_offers,
    read_points,
    read_redeem,
)
from handlers.subcommand_shows import (
    SUMMARY_WORDS,
    help_me,
    history,
    list_customers,
    list_offers,
    summary,
)

# -- doing it (after the ack) ---------------------------------------------------------


def _points(env: Env, typed: Typed) -> None:
    if typed.change is None:
        check = None
        if typed.amount_unread:  # answered at once from the list as loaded, or in the form
            resolve.amount_meant(env, typed.reference, env.service.names_someone)
            check = functools.partial(
                resolve.amount_meant, env, typed.reference, resolve.named_in_a_fresh_list(env)
            )
        modals.open_customer_form(env, Form.POINTS, typed.reference, check=check, op=typed.op)
        return
    customer = resolve.customer_or_choice(env, typed.reference, "points", typed.rest)
    if customer is None:
        return
    result = env.service.change_points(env.actor, customer.id, typed.change, typed.reason)
    env.reply(blocks.points_changed(result, undo_minutes=env.settings.loyalty_undo_minutes))
    env.announce(result.entry)


def _redeem(env: Env, typed: Typed) -> None:
    if typed.reference:  # no offer: the form lists the rewards
        modals.open_customer_form(env, Form.REDEEM, typed.reference)
        return
    reference, offer_reference = resolve.customer_and_offer(env, list(typed.words))
    if not offer_reference:  # `redeem juan perez`: the form lists the rewards
        modals.open_customer_form(env, Form.REDEEM, reference, acked=True)
        return
    customer = resolve.customer_or_choice(env, reference, "redeem", offer_reference)
    if customer is None:
        return
    offer = resolve.reward_or_choice(env, offer_reference, customer)
    if offer is None:
        return
    result = env.service.redeem(env.actor, customer.id, offer.id)
    env.reply(blocks.redeemed(result, undo_minutes=env.undo_minutes(Act.UNDO_ANY_CHANGE)))
    env.announce(result.entry)


def _customer(env: Env, typed: Typed) -> None:
    if typed.action == "new":
        modals.open_new_customer(env, typed.reference)
    elif typed.action == "edit":
        modals.open_customer_form(env, Form.CUSTOMER, typed.reference)
    elif typed.action == "delete":
        env.service.permit(env.actor, Act.DELETE_CUSTOMER)  # before a choice of whom
        customer = resolve.customer_or_choice(env, typed.reference, "customer delete")
        if customer is not None:
            confirmations.ask(env, CUSTOMER_DELETE, customer.id)
    else:
        customer = resolve.customer_or_choice(env, typed.reference, "customer")
        if customer is not None:
            env.reply(blocks.customer_card(env.service.customer(customer.id), env.allows))


def _offer(env: Env, typed: Typed) -> None:
    action, reference = typed.action, typed.reference
    if action == "new":
        modals.open_new_offer(env)
    elif action == "edit":
        modals.open_offer_form(env, reference)
    elif action in ("delete", "cancel"):
        kind = OFFER_DELETE if action == "delete" else OFFER_CANCEL
        env.service.permit(env.actor, Act.DELETE_OFFER if action == "delete" else Act.CANCEL_OFFER)
        offer = resolve.offer_or_choice(env, reference, f"offer {action}")
        if offer is not None:
            confirmations.ask(env, kind, offer.id)
    elif action == "publish":
        offer = resolve.offer_or_choice(env, reference, "offer publish")
        if offer is not None:
            approvals.request_publication(env, offer.id)
    else:
        offer = resolve.offer_or_choice(env, reference, "offer")
        if offer is not None:
            env.reply(blocks.offer_card(offer, env.allows))


def _undo(env: Env, typed: Typed) -> None:
    result = env.service.undo_last(env.actor)
    env.reply(blocks.undone(result))
    env.announce(result.entry)


# -- the table ------------------------------------------------------------------------


SUBCOMMANDS = table(
    (
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
                        N_("remove 1870 2"),  # a verb for the sign: `quitar 1870 2`
                    ),
                ),
                Usage(
                    N_("points <customer>"),
                    N_("Without an amount: a form to add, deduct or set points with a reason."),
                    (N_("points 1870"),),
                ),
            ),
            _points,
            read_points,
            opens_form=lambda typed: typed.change is None,
            changes=lambda typed: typed.change is not None,
            # What people type for it: `/loyalty add juan 10`, `/loyalty sumar juan 10`;
            # `quitar juan 5` deducts, `fijar juan 30` sets (handlers.parsing.verb_first).
            aliases=(
                *("add", "give", "sumar", "agregar", "añadir", "anadir", "dar"),
                *("suma", "agrega", "añade", "anade", "da"),  # as said to someone (tú)
                *MORE_ADD_VERBS,
                *DEDUCT_VERBS,
                *SET_VERBS,
            ),
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
            read_redeem,
            opens_form=lambda typed: len(typed.words) == 1,
            changes=lambda typed: len(typed.words) > 1,
            aliases=("canjea",),
        ),
        Subcommand(
            "sale",
            "venta",
            N_("record a sale: its points come from the earning rule and promotions"),
            (
                Usage(
                    N_("sale <customer> <amount> [note]"),
                    N_(
                        "Add the points a sale earns (the shop's earning rule, plus the "
                        "promotions running now) and show them like a receipt. Managers; "
                        "clerks within the clerk allowance."
                    ),
                    (N_("sale 1870 250.00"), N_("sale juan.perez@example.com 120 ticket 18")),
                ),
            ),
            run_sale,
            read_sale,
            changes=lambda typed: True,
            aliases=SALE_WORDS,
        ),
        Subcommand(
            "promos",
            "promos",
            N_("the promotions: extra points on sales for some days and hours"),
            (
                Usage(
                    N_("promos"),
                    N_("The promotions running or paused, with buttons to pause or end them."),
                    (N_("promos"),),
                ),
                Usage(
                    N_("promos new | pause <promo> | resume <promo> | end <promo>"),
                    N_(
                        "Create a promotion in a form (double points, or a bonus), pause, "
                        "resume or end one (by its id or name). Managers."
                    ),
                    (N_("promos new"),),
                ),
            ),
            run_promos,
            read_promos,
            aliases=("promotions", "promociones", "promo", "promotion", "promoción", "promocion"),
            opens_form=opens_promo_form,
            changes=changes_promo,
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
                    N_("customer new [name email phone] | edit <customer> | delete <customer>"),
                    N_(
                        "Create a customer in a form (filled in with what you typed after new), "
                        "edit one, or delete one (managers, after confirming)."
                    ),
                    (
                        N_("customer new Rosa Díaz rosa@example.com"),
                        N_("customer edit juan.perez@example.com"),
                    ),
                ),
            ),
            _customer,
            read_customer,
            opens_form=opens_record_form,
            aliases=CARD_WORDS,
        ),
        Subcommand(
            "customers",
            "clientes",
            N_("list or search customers (or `top` by points)"),
            (
                Usage(
                    N_("customers [search]"),
                    N_(
                        "List customers (name, points, id), optionally only those matching a search."
                    ),
                    (N_("customers"), N_("customers perez")),
                ),
                Usage(
                    N_("customers top [how many]"),
                    N_(
                        "The customers with the most points first: all, a page at a time, or "
                        "only the first few."
                    ),
                    (N_("customers top"), N_("customers top 3")),
                ),
            ),
            list_customers,
            read_customers,
            aliases=(N_("list"), N_("search"), "find", "buscar", "busca", "lista"),
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
            read_offer,
            opens_form=opens_record_form,
            changes=lambda typed: typed.action == "publish",
        ),
        Subcommand(
            "approvals",
            "aprobaciones",
            N_("offers waiting for publication approval"),
            (
                Usage(
                    N_("approvals"),
                    N_(
                        "The offers waiting for publication approval, with links to their requests."
                    ),
                    (N_("approvals"),),
                ),
            ),
            lambda env, typed: approvals.list_approvals(env),
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
            list_offers,
            read_offers,
        ),
        Subcommand(
            "history",
            "historial",
            N_("a customer's recent changes: who, when, why"),
            (
                Usage(
                    N_("history <customer>"),
                    N_(
                        "The recent changes made through the bot to a customer: who, when, what, why."
                    ),
                    (N_("history juan.perez@example.com"),),
                ),
            ),
            history,
            read_history,
        ),
        Subcommand(
            "export",
            "exportar",
            N_("a CSV file of the customers or the history, in your DM (managers)"),
            (
                Usage(
                    N_("export customers [search]"),
                    N_(
                        "The customer list (or those a search matches) as a CSV file, sent to "
                        "your DM. Managers."
                    ),
                    (N_("export customers"), N_("export customers perez")),
                ),
                Usage(
                    N_("export history [customer] [days]"),
                    N_(
                        "The changes of the last 30 days (or of the days given: up to 999, or "
                        "today, yesterday, a week), of everyone or of one customer, as a CSV "
                        "file in your DM. Managers."
                    ),
                    (N_("export history today"), N_("export history juan.perez@example.com 90")),
                ),
            ),
            export,
            read_export,
            aliases=("exporta",),
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
            changes=lambda typed: True,
            aliases=("deshaz",),
        ),
        Subcommand(
            "summary",
            "resumen",
            N_("today's program summary"),
            (
                Usage(
                    N_("summary [chart]"),
                    N_(
                        "Today's program summary: customers, points, top customers, staff, offers, "
                        "trend; with `chart`, the last two weeks' chart too, in your DM."
                    ),
                    (N_("summary"), N_("summary chart")),
                ),
            ),
            summary,
            aliases=SUMMARY_WORDS,
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
            help_me,
        ),
    )
)
