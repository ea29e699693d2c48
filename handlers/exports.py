"""`/loyalty export customers [search]` and `/loyalty export history [customer] [days]`:
a CSV file in the manager's DM. Written row by row to a temporary file, then sent the way
Slack's `files_upload_v2` does, streamed from the file (bot.slack.files): a
300,000-customer list is never whole in memory."""

from __future__ import annotations

import io
import itertools
import logging
import tempfile
from collections.abc import Callable
from typing import IO

from bot.core.exports import MOST_DAYS
from bot.domain.errors import CustomerNotFound, InvalidInput
from bot.domain.phones import to_e164
from bot.domain.policy import Act
from bot.domain.say import N_, Code, Name, Say
from bot.domain.text_keys import fold
from bot.i18n import _, ngettext, number
from bot.slack import blocks
from bot.slack.exports import file_name, write_customers, write_history
from bot.slack.files import share_file
from bot.slack.text import mrkdwn
from bot.smartpasses.models import Customer
from handlers import resolve
from handlers.command_help import usage_of
from handlers.context import Env
from handlers.parsing import ARTICLES, BEFORE_A_KIND, join_phone
from handlers.slackapi import name_of
from handlers.subcommand import Typed

log = logging.getLogger(__name__)

KINDS = {
    "customers": "customers",
    "clientes": "customers",
    "history": "history",
    "historial": "history",
    "changes": "history",  # `export today's changes`, `exporta los cambios de hoy`
    "cambios": "history",
    "movimientos": "history",
}
DEFAULT_DAYS = 30
SENT = N_("📄 Sent to you in a direct message: *{file}* ({rows}).")


# A history's days said in words at the end (folded): `hoy`, `7 días`, `los últimos 7
# días`, `this week`, `la semana pasada`, `last month` (a week is 7 days, a month 30).
_PERIOD_WORDS = {"hoy": 1, "today": 1, "semana": 7, "week": 7, "mes": 30, "month": 30}
_PERIOD_WORDS |= dict.fromkeys(("ayer", "yesterday"), -1)  # yesterday alone: YESTERDAY
YESTERDAY = "yesterday"  # Typed.reason for yesterday's changes (a picker's rerun reads it)
_DAY_WORDS = frozenset({"dia", "dias", "day", "days"})
_PAST = frozenset({"pasada", "pasado"})  # after the period: `la semana pasada`
_BEFORE_PERIOD = ARTICLES | {
    "de", "del", "en", "esta", "este", "ultimos", "ultimas", "ultima", "ultimo", "durante",
    "desde", "this", "last", "past", "in", "for", "of", "over", "during", "from",
}  # fmt: skip


def read_export(env: Env, args: list[str]) -> Typed:
    """`customers [search]` or `history [customer] [days]` (days: a number of at most three
    digits at the end, 30 if none; customer ids are longer)."""
    if len(args) > 1 and args[0].casefold() in BEFORE_A_KIND:  # `exporta el historial`
        args = args[1:]
    kind = KINDS.get(args[0].casefold()) if args else None
    if kind is None:
        raise InvalidInput(
            Say(
                "Export what? Usage: {usage} or {other}.",
                usage=usage_of("export")["usage"],
                other=usage_of("export", 1)["usage"],
            )
        )
    rest = args[1:]
    if kind == "customers":
        return Typed(tuple(args), action=kind, reference=" ".join(rest))
    rest, days = _period(env, rest)
    if days == -1:
        return Typed(tuple(args), action=kind, reference=" ".join(rest), reason=YESTERDAY)
    if days is not None and not 1 <= days <= MOST_DAYS:
        raise InvalidInput(Say("Give between 1 and {most} days.", most=MOST_DAYS))
    return Typed(
        tuple(args), action=kind, reference=" ".join(rest), reason=str(days or DEFAULT_DAYS)
    )


def _period(env: Env, words: list[str]) -> tuple[list[str], int | None]:
    """The words before the days said at their end, and those days (None: none said): a
    number (`7`; a long one only after a customer: `history 1870 1000`), a number of days
    (`7 días`) or a period (`hoy`, `this week`), with the words that lead to it (`de los
    últimos`, `the last`)."""
    folded = [fold(word) for word in words]
    end = len(words)
    if end > 1 and folded[-1] in _PAST and folded[-2] in _PERIOD_WORDS:
        end -= 1
    if end and folded[end - 1] in _PERIOD_WORDS:
        days, end = _PERIOD_WORDS[folded[end - 1]], end - 1
    elif end > 1 and folded[end - 1] in _DAY_WORDS and words[end - 2].isdigit():
        days, end = int(words[end - 2]), end - 2
    elif end and words[-1].isdigit() and (len(words[-1]) <= 3 or _after_a_reference(env, words)):
        days, end = int(words[-1]), end - 1
    else:
        return words, None
    while end and folded[end - 1] in _BEFORE_PERIOD:
        end -= 1
    return words[:end], days


def _after_a_reference(env: Env, words: list[str]) -> bool:
    """`history 1870 1000`: a number after a customer (one id, email or phone, or a name)
    is the days (too many, here), not part of the customer; unless it ends a phone number
    typed in groups (`999 411 6533`)."""
    region = env.settings.loyalty_default_region
    if to_e164(" ".join(words), region):  # one phone number
        return False
    *before, last = join_phone(words, region)
    if not before or last != words[-1]:
        return False
    return len(before) == 1 or not all(word.isdigit() for word in before)


def export(env: Env, typed: Typed) -> None:
    """The file in the person's DM; or, when it would hold no row, a reply saying so."""
    env.service.permit(env.actor, Act.EXPORT)
    today = env.service.today()
    if typed.action == "customers":
        search = resolve.search_words(env, typed.reference)
        customers = env.service.export_customers(env.actor, search)
        if not customers:
            env.reply(blocks.notice(mrkdwn(_no_customers(search))))
            return
        name = file_name(_("customers"), today, search)
        count = _send(env, name, _("Customers"), lambda out: write_customers(out, customers))
        rows = ngettext("{count} customer", "{count} customers", count).format(count=number(count))
    else:
        yesterday = typed.reason == YESTERDAY
        days, customer = 2 if yesterday else int(typed.reason), None
        if typed.reference:
            try:
                customer = resolve.customer_or_choice(
                    env, typed.reference, "export history", typed.reason
                )
            except CustomerNotFound:
                if typed.reference.isdigit() and int(typed.reference) > MOST_DAYS:
                    # `history 1000`: meant as days, past the most (no customer has that id)
                    raise InvalidInput(_too_many_days(typed.reference)) from None
                raise
            if customer is None:
                return
        customer_id = customer.id if customer else None
        entries = env.service.export_history(env.actor, days, customer_id, before_today=yesterday)
        first = next(entries, None)
        if first is None:
            env.reply(blocks.notice(mrkdwn(_no_changes(0 if yesterday else days, customer))))
            return
        detail = [str(customer_id)] if customer_id else []
        name = file_name(_("history"), today, *detail, _period_named(days, yesterday))
        count = _send(
            env,
            name,
            _("History"),
            lambda out: write_history(
                out,
                itertools.chain([first], entries),
                env.service.tz,
                lambda user_id: name_of(env.client, user_id),
            ),
        )
        rows = ngettext("{count} change", "{count} changes", count).format(count=number(count))
    env.reply(blocks.notice(_(SENT).format(file=name, rows=rows)))


def _period_named(days: int, yesterday: bool) -> str:
    """The days exported, as a file's name says them."""
    if yesterday:
        return _("yesterday")
    return _("today") if days == 1 else _("{days} days").format(days=days)


def _no_customers(search: str) -> Say:
    if search:
        return Say(
            "No customer matches “{search}”, so there is nothing to export.", search=Name(search)
        )
    return Say("There are no customers yet, so there is nothing to export.")


def _no_changes(days: int, customer: Customer | None) -> Say:
    """Why no file: no change in the days asked (0: yesterday; of the customer asked)."""
    if days == 0:
        if customer is None:
            return Say("There were no points changes yesterday, so there is nothing to export.")
        return Say(
            "{name} had no points changes yesterday, so there is nothing to export.",
            name=Name(customer.display_name),
        )
    if customer is None:
        if days == 1:
            return Say("There were no points changes today, so there is nothing to export.")
        return Say(
            "There were no points changes in the last {days} days, so there is nothing to export.",
            days=days,
        )
    who = Name(customer.display_name)
    if days == 1:
        return Say("{name} had no points changes today, so there is nothing to export.", name=who)
    return Say(
        "{name} had no points changes in the last {days} days, so there is nothing to export.",
        name=who,
        days=days,
    )


def _too_many_days(typed: str) -> Say:
    return Say(
        "No customer has the id {id}, and an export goes back at most {most} days.",
        id=Code(typed),
        most=MOST_DAYS,
    )


def _send(env: Env, name: str, title: str, write: Callable[[IO[str]], int]) -> int:
    """Write the file, then share it in the person's DM: the rows written."""
    channel = env.client.conversations_open(users=env.user_id)["channel"]["id"]
    with tempfile.TemporaryFile() as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")  # a BOM: Excel reads UTF-8
        count = write(text)
        text.flush()
        text.detach()
        length = raw.tell()
        raw.seek(0)
        share_file(
            env.client, channel, raw, length, name=name, title=title, content_type="text/csv"
        )
    return count
