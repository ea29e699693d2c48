"""`/loyalty export customers [search]` and `/loyalty export history [customer] [days]`:
a CSV file in the manager's DM. Written row by row to a temporary file, then sent the way
Slack's `files_upload_v2` does, streamed from the file (bot.slack.files): a
300,000-customer list is never whole in memory."""

from __future__ import annotations

import io
import logging
import tempfile
from collections.abc import Callable
from typing import IO

from bot.core.exports import MOST_DAYS
from bot.domain.errors import CustomerNotFound, InvalidInput
from bot.domain.phones import to_e164
from bot.domain.policy import Act
from bot.domain.say import N_, Code, Say
from bot.i18n import _, ngettext, number
from bot.slack import blocks
from bot.slack.exports import file_name, write_customers, write_history
from bot.slack.files import share_file
from handlers import resolve
from handlers.command_help import usage_of
from handlers.context import Env
from handlers.parsing import ARTICLES, join_phone
from handlers.slackapi import name_of
from handlers.subcommand import Typed

log = logging.getLogger(__name__)

KINDS = {
    "customers": "customers",
    "clientes": "customers",
    "history": "history",
    "historial": "history",
}
DEFAULT_DAYS = 30
SENT = N_("📄 Sent to you in a direct message: *{file}* ({rows}).")


_BEFORE_WHAT = ARTICLES | {"my", "mi", "mis"}  # `exporta el historial de juan`


def read_export(env: Env, args: list[str]) -> Typed:
    """`customers [search]` or `history [customer] [days]` (days: a number of at most three
    digits at the end, 30 if none; customer ids are longer)."""
    if len(args) > 1 and args[0].casefold() in _BEFORE_WHAT:
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
    days = DEFAULT_DAYS
    if rest and rest[-1].isdigit() and (len(rest[-1]) <= 3 or _after_a_reference(env, rest)):
        days = int(rest.pop())
        if not 1 <= days <= MOST_DAYS:
            raise InvalidInput(Say("Give between 1 and {most} days.", most=MOST_DAYS))
    return Typed(tuple(args), action=kind, reference=" ".join(rest), reason=str(days))


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
    env.service.permit(env.actor, Act.EXPORT)
    today = env.service.today()
    if typed.action == "customers":
        search = resolve.search_words(env, typed.reference)
        customers = env.service.export_customers(env.actor, search)
        name = file_name(_("customers"), today, search)
        count = _send(env, name, _("Customers"), lambda out: write_customers(out, customers))
        rows = ngettext("{count} customer", "{count} customers", count).format(count=number(count))
    else:
        days, customer_id = int(typed.reason), None
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
            customer_id = customer.id
        entries = env.service.export_history(env.actor, days, customer_id)
        detail = [str(customer_id)] if customer_id else []
        name = file_name(_("history"), today, *detail, _("{days} days").format(days=days))
        count = _send(
            env,
            name,
            _("History"),
            lambda out: write_history(
                out, entries, env.service.tz, lambda user_id: name_of(env.client, user_id)
            ),
        )
        rows = ngettext("{count} change", "{count} changes", count).format(count=number(count))
    env.reply(blocks.notice(_(SENT).format(file=name, rows=rows)))


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
