"""What the read-only subcommands do after the ack: help, the summary, the customer and
offer lists, a customer's history."""

from __future__ import annotations

from bot.core.base import offer_status
from bot.core.service import CUSTOMERS_PER_PAGE
from bot.domain.say import Code, Say
from bot.domain.text_keys import fold
from bot.i18n import _
from bot.slack import blocks
from bot.slack.chart import share_chart
from bot.slack.text import mrkdwn
from handlers import resolve
from handlers.command_help import help_detail, help_message, unknown, word
from handlers.context import Env
from handlers.parsing import ARTICLES
from handlers.subcommand import BY_NAME, Typed

CHART_WORDS = ("chart", "gráfica", "grafica")  # `summary chart`
# The words people type for the summary: `stats`, `report`, `reporte`, `estadísticas`.
SUMMARY_WORDS = ("stats", "report", "reporte", "estadisticas", "estadísticas", "dashboard")
# Words around `summary` that ask for nothing else: `resumen de hoy con gráfica`.
_TODAYS = ARTICLES | {"de", "del", "con", "with", "of", "for", "y", "and", "hoy", "today"}


def help_me(env: Env, typed: Typed) -> None:
    if not typed.words:
        env.reply(help_message())
        return
    wanted = typed.words[0].lower().removeprefix("/loyalty")
    row = BY_NAME.get(wanted)
    if row is None:
        env.reply(blocks.notice(unknown(wanted)))
        return
    env.reply(help_detail(row))


def summary(env: Env, typed: Typed) -> None:
    summary = env.services.summary.get()
    env.reply(blocks.summary_message(summary, env.settings.tz))
    words = {fold(word) for word in typed.words}
    if words - _TODAYS - {fold(chart) for chart in CHART_WORDS}:  # `resumen de ayer`
        env.reply(blocks.notice(mrkdwn(_today_only())))
    if words & set(CHART_WORDS):
        channel = env.client.conversations_open(users=env.user_id)["channel"]["id"]
        share_chart(env.client, channel, summary.chart)
        env.reply(
            blocks.notice(
                _("📈 The chart of the last two weeks is in your direct messages with me.")
            )
        )


def _today_only() -> Say:
    """Said after the summary to someone who asked for another day's."""
    export = f"/loyalty {word(BY_NAME['export'])} {_('history')} 7"
    return Say(
        "That is today's summary, as of now: I do not keep another day's. Each day's is "
        "posted in the summary channel; {export} sends the last 7 days' changes as a file.",
        export=Code(export),
    )


def list_customers(env: Env, typed: Typed) -> None:
    query = "" if typed.by_points else resolve.search_words(env, typed.reference)
    if 0 < typed.count < CUSTOMERS_PER_PAGE:  # the first few by points: one short page
        page = env.service.customers_page(by_points=True, page_size=typed.count)
    else:
        page = env.service.customers_page(query, by_points=typed.by_points)
    env.reply(blocks.customer_list(page))


def list_offers(env: Env, typed: Typed) -> None:
    status = offer_status(typed.action) or None
    env.reply(blocks.offer_list(env.service.offers(status), status))  # page 1


def history(env: Env, typed: Typed) -> None:
    customer = resolve.customer_or_choice(env, typed.reference, "history")
    if customer is not None:
        show_history(env, customer.id)


def show_history(env: Env, customer_id: int) -> None:
    customer = env.service.customer(customer_id)
    entries = env.service.history(customer_id)
    env.reply(blocks.history(customer, entries, env.settings.tz))
